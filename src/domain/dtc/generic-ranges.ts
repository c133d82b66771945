// Which numbers of each SAE range carry a generic (SAE-assigned) code, as this project models
// J2012 without its licensed table: the denominator the bundled titles' coverage is counted
// against (test/domain/dtc/coverage.test.ts holds the 95 % bar).
//
// J2012 does not assign every number of a range. Its first numbering counts in decimal inside
// each hundred (P0001-P0999, P2000-...), later editions add hex-lettered extensions (P00A0,
// P0A00-P0DFF hybrid, P2A00, ...), and B0/C0/U0 leave whole areas empty. A block below is a run
// of numbers this project knows to be assigned and whose layout (component, location, fault
// family) it can state; numbers outside every block are either unassigned, reserved, or
// assigned in a layout we cannot state without the licensed table — those get the structural
// description (catalog.ts) and can be given titles by import.
import { offset } from './titles/rules.ts';

export type GenericRange = 'P0' | 'P2' | 'P3' | 'B0' | 'C0' | 'U0';

/** First and last code, both inclusive; counted in hex when `hex`, else in decimal. */
export type Block = readonly [first: string, last: string, hex?: 'hex'];

export const GENERIC_BLOCKS: Readonly<Record<GenericRange, readonly Block[]>> = {
  // J2012's decimal P0 numbering is assigned throughout; the hex-lettered extensions are not
  // counted (titled where the table knows them).
  P0: [['P0001', 'P0999']],
  P2: [
    ['P2000', 'P2347'],
    ['P2400', 'P2463'],
    ['P2500', 'P2571'],
    ['P2600', 'P2673'],
    ['P2700', 'P2816'],
    ['P2A00', 'P2A05', 'hex'],
  ],
  // P3000-P33FF belong to manufacturers, P3500 and above are reserved: only cylinder deactivation.
  P3: [['P3400', 'P3499']],
  // Restraints, numbered in hex: frontal stages, side and curtain airbags per seat row, knee
  // airbags, belt buckle switches, pretensioners, occupant classification, impact sensors,
  // and the warning lamp and passenger-airbag switch.
  B0: [
    ['B0001', 'B0003'],
    ['B0010', 'B0012'],
    ['B0020', 'B0024', 'hex'],
    ['B0028', 'B002C', 'hex'],
    ['B0030', 'B0034'],
    ['B0038', 'B003C', 'hex'],
    ['B0040', 'B0043'],
    ['B0050', 'B0056'],
    ['B0070', 'B007A', 'hex'],
    ['B0080', 'B0087'],
    ['B0091', 'B0094'],
    ['B0096', 'B0098'],
    ['B00D0', 'B00D7', 'hex'],
    ['B00DF', 'B00DF', 'hex'],
  ],
  // Brakes, traction and stability control, steering and suspension, in J2012's decimal
  // numbering (the one GM-family scan tools report: C0035 is the left front wheel-speed sensor).
  C0: [
    ['C0000', 'C0000'],
    ['C0035', 'C0099'],
    ['C0110', 'C0114'],
    ['C0121', 'C0124'],
    ['C0131', 'C0135'],
    ['C0141', 'C0165'],
    ['C0186', 'C0200'],
    ['C0241', 'C0245'],
    ['C0251', 'C0254'],
    ['C0265', 'C0269'],
    ['C0450', 'C0479'],
    ['C0545', 'C0550'],
    ['C0561', 'C0565'],
    ['C0615', 'C0654'],
    ['C0690', 'C0696'],
    ['C0710', 'C0710'],
    ['C0800', 'C0804'],
    ['C0895', 'C0896'],
  ],
  // Bus faults, lost communication (to U0235; later editions continue past it), software
  // incompatibility and invalid data, each counted to its last module.
  U0: [
    ['U0001', 'U0077'],
    ['U0100', 'U0235'],
    ['U0300', 'U0331'],
    ['U0400', 'U0431'],
  ],
};

/** Every code of a range's blocks, in order. */
export function genericCodes(range: GenericRange): string[] {
  return GENERIC_BLOCKS[range].flatMap(([first, last, hex]) => {
    const codes: string[] = [];
    for (let code = first; ; code = offset(code, 1, hex === 'hex')) {
      codes.push(code);
      // A block whose end its counting never reaches runs off the range: offset throws.
      if (code === last) return codes;
    }
  });
}

