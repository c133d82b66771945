// Titles for SAE-defined B0 (restraints) and C0 (brakes, traction and stability control,
// steering, suspension) codes, in this project's own words. J2012 numbers these by location
// and component; the fault itself is often left to the failure-type byte, which describeDtc
// appends. The blocks they fill are listed in ../generic-ranges.ts.
import { CONTROL3, CONTROL4, SENSOR5, family, numbered, offset, run } from './rules.ts';
import type { Entry } from './rules.ts';

const DEPLOY = 'deployment control fault';

// B00xx side airbags: one group per side and seat row, left row 1 at B0020, right row 1 at
// B0028, then row 2 at B0030 and B0038.
const SIDE_PARTS = ['side airbag', 'curtain airbag', 'side airbag stage 2', 'curtain airbag stage 2', 'pelvis airbag'];
const sideAirbags = ([
  ['B0020', 'Left', 1],
  ['B0028', 'Right', 1],
  ['B0030', 'Left', 2],
  ['B0038', 'Right', 2],
] as const).flatMap(([start, side, row]) => run(start, SIDE_PARTS.map((part) => `${side} ${part} (seat row ${row}) ${DEPLOY}`), true));

const SEATS = ['driver', 'front passenger', 'row 2 left', 'row 2 centre', 'row 2 right', 'row 3 left', 'row 3 right'] as const;

const b0: Entry[] = [
  ...numbered('B0001', 3, 1, (n) => `Driver frontal airbag stage ${n} ${DEPLOY}`),
  ...numbered('B0010', 3, 1, (n) => `Passenger frontal airbag stage ${n} ${DEPLOY}`),
  ...sideAirbags,
  ...run('B0040', ['driver knee airbag', 'driver knee airbag stage 2', 'passenger knee airbag', 'passenger knee airbag stage 2'].map(
    (what) => `${what.charAt(0).toUpperCase()}${what.slice(1)} ${DEPLOY}`,
  )),
  ...run('B0050', SEATS.map((seat) => `Seat-belt buckle switch (${seat} seat) circuit fault`)),
  ...run('B0070', [
    ...['driver', 'driver stage 2', 'front passenger', ...SEATS.slice(2), 'front passenger stage 2'].map(
      (seat) => `Seat-belt retractor pretensioner (${seat}) ${DEPLOY}`,
    ),
    `Seat-belt anchor (lap) pretensioner (driver) ${DEPLOY}`,
    `Seat-belt anchor (lap) pretensioner (front passenger) ${DEPLOY}`,
  ], true),
  ...run('B0080', [
    'Front passenger occupant (weight) sensor circuit fault',
    'Occupant classification system fault',
    'Occupant classification system not calibrated (zero point not learned)',
    'Driver seat occupant sensor circuit fault',
    'Front passenger seat-belt tension sensor circuit fault',
    'Driver seat track position sensor circuit fault',
    'Front passenger seat track position sensor circuit fault',
    'Child seat detection fault (front passenger seat)',
  ]),
  ...numbered('B0091', 3, 1, (n) => `Left side impact sensor ${n} circuit fault`),
  ['B0094', 'Centre (tunnel) side impact sensor circuit fault'],
  ...numbered('B0096', 3, 1, (n) => `Right side impact sensor ${n} circuit fault`),
  ...run('B00D0', [
    'Restraint control module supply voltage out of range',
    'Restraint control module internal fault',
    'Airbag (restraint system) warning lamp control circuit fault',
    'Seat-belt reminder lamp (driver) control circuit fault',
    'Seat-belt reminder lamp (front passenger) control circuit fault',
    'Passenger airbag "off" indicator control circuit fault',
    'Passenger airbag "on" indicator control circuit fault',
    'Rear seat-belt reminder display control circuit fault',
  ]),
  ['B00DF', 'Passenger airbag deactivation switch circuit fault'],
];

const WHEELS = ['Left front', 'Right front', 'Left rear', 'Right rear'] as const;
const VALVE5 = [...CONTROL4, 'performance problem or stuck'] as const;
const MOTOR5 = ['circuit fault', 'performance problem', 'circuit low', 'circuit high', 'stuck on'] as const;

/** The same family for each of four wheels, `step` codes apart. */
function perWheel(start: string, step: number, subject: (wheel: string) => string, faults: readonly string[]): Entry[] {
  return WHEELS.flatMap((wheel, k) => family(offset(start, k * step), subject(wheel), faults));
}

const c0: Entry[] = [
  ['C0000', 'Vehicle speed information circuit fault'],
  ...perWheel('C0035', 5, (w) => `${w} wheel speed sensor`, SENSOR5),
  ...family('C0055', 'Rear axle wheel speed sensor', SENSOR5),
  // Each wheel's ABS valves: inlet (isolation) then outlet (dump), five codes each.
  ...perWheel('C0060', 10, (w) => `${w} ABS inlet (isolation) valve`, VALVE5),
  ...perWheel('C0065', 10, (w) => `${w} ABS outlet (dump) valve`, VALVE5),
  ...family('C0110', 'ABS pump motor', MOTOR5),
  ...family('C0121', 'ABS valve relay', [...CONTROL3, 'contacts stuck closed']),
  ...family('C0131', 'Brake system pressure sensor', SENSOR5),
  // Traction control valves sit on the driven front wheels, two per wheel.
  ...WHEELS.slice(0, 2).flatMap((w, k) =>
    [1, 2].flatMap((n) => family(offset('C0141', k * 10 + (n - 1) * 5), `${w} traction control valve ${n}`, VALVE5)),
  ),
  ...family('C0161', 'Brake pedal switch (ABS and traction control input)', SENSOR5),
  ...family('C0186', 'Lateral acceleration sensor', SENSOR5),
  ...family('C0191', 'Longitudinal acceleration sensor', SENSOR5),
  ...family('C0196', 'Yaw rate sensor', SENSOR5),
  ...run('C0241', [
    'Traction control: engine torque reduction request circuit fault',
    'Traction control: engine control module reports a fault',
    'Traction control: requested torque reduction not delivered',
    'Traction control: delivered torque signal fault',
    'Wheel speed sensor signal frequency implausible',
  ]),
  ...run('C0251', [
    'Stability control system performance problem',
    'Stability control sensors disagree (yaw rate, lateral acceleration, steering angle)',
    'Stability control sensor zero point not learned',
    'Stability control disabled by a related fault',
  ]),
  ...family('C0265', 'ABS control module motor/valve relay', ['circuit fault', 'circuit low', 'circuit high']),
  ['C0268', 'ABS pump motor: pressure build-up too slow'],
  ['C0269', 'ABS valve activation time too long'],
  ...family('C0450', 'Steering assist control solenoid', VALVE5),
  ...family('C0455', 'Steering wheel angle sensor', SENSOR5),
  ...family('C0460', 'Steering column position sensor', SENSOR5),
  ...family('C0465', 'Steering torque sensor', SENSOR5),
  ...family('C0470', 'Power steering motor position sensor', SENSOR5),
  ...family('C0475', 'Electric power steering motor', MOTOR5),
  ...run('C0545', [
    'Electric power steering system performance problem',
    'Power steering assist reduced (over temperature)',
    'Power steering supply voltage low',
    'Power steering supply voltage high',
    'Steering torque sensor supply voltage fault',
    'Steering or suspension control module internal fault',
  ]),
  ...run('C0561', [
    'Chassis control disabled, reason stored in the module',
    'Chassis control module not configured',
    'Chassis control module calibration checksum error',
    'Chassis control module EEPROM error',
    'Chassis control module processor fault',
  ]),
  ...perWheel('C0615', 5, (w) => `${w} suspension position sensor`, SENSOR5),
  ...perWheel('C0635', 5, (w) => `${w} damper (shock absorber) actuator`, VALVE5),
  ...family('C0690', 'Damper control relay', CONTROL3),
  ['C0693', 'Level control compressor relay circuit fault'],
  ['C0694', 'Level control exhaust valve circuit fault'],
  ['C0695', 'Suspension position sensor reference voltage circuit fault'],
  ['C0696', 'Suspension position sensor reference voltage out of range'],
  ['C0710', 'Steering position signal from the steering module invalid'],
  ...family('C0800', 'Chassis control module power supply', ['circuit fault', 'voltage implausible', 'voltage low', 'voltage high', 'voltage intermittent']),
  ['C0895', 'Chassis control module supply voltage performance problem'],
  ['C0896', 'Chassis control module supply voltage outside its normal range'],
];

export const BODY_CHASSIS: readonly Entry[] = [...b0, ...c0];
