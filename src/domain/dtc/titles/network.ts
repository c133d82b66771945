// Titles for SAE-defined U0 codes, in this project's own words.
import { family, letter, numbered, offset, run } from './rules.ts';
import type { Entry } from './rules.ts';

// U00xx: each bus gets nine codes — the bus, its performance, then each wire open/low/high.
const BUS_FAULTS = [
  'fault',
  'performance problem',
  '(+) line open',
  '(+) line shorted low',
  '(+) line shorted high',
  '(−) line open',
  '(−) line shorted low',
  '(−) line shorted high',
  '(−) line shorted to the (+) line',
] as const;
const BUSES = [
  'High-speed CAN communication bus',
  'Medium-speed CAN communication bus',
  'Low-speed CAN communication bus',
  ...['A', 'B', 'C', 'D', 'E'].map((x) => `Vehicle communication bus ${x}`),
];
const u00: Entry[] = [
  ...BUSES.flatMap((bus, k): Entry[] => family(offset('U0001', k * BUS_FAULTS.length), bus, BUS_FAULTS)),
  ...numbered('U0073', 5, 1, (n) => `Control module communication bus ${letter(n)} off`),
];

// U01xx-U02xx: lost communication with a module, numbered by module.
const ECM = 'engine/powertrain control module (ECM/PCM)';
// The first thirteen modules of both numberings (U0100-U0112; U0301-U0313 and U0401-U0413).
const POWERTRAIN_MODULES = [
  `${ECM} A`,
  'transmission control module (TCM)',
  'transfer case control module',
  'gear shift control module',
  'cruise control module',
  'fuel injector control module',
  'glow plug control module',
  'throttle actuator control module',
  'alternative fuel control module',
  'fuel pump control module',
  'drive motor control module A',
  'battery energy control module A',
  'battery energy control module B',
];
const lostCommunication: readonly (readonly [start: string, modules: readonly string[]])[] = [
  [
    'U0100',
    [
      ...POWERTRAIN_MODULES,
      'emissions-critical control information',
      'four-wheel-drive clutch control module',
      `${ECM} B`,
    ],
  ],
  ['U0117', ['power take-off control module', 'fuel additive control module', 'fuel-fired heater control module', 'starter/generator control module']],
  [
    'U0121',
    [
      'anti-lock brake system (ABS) control module',
      'vehicle dynamics control module',
      'yaw rate sensor module',
      'lateral acceleration sensor module',
      'multi-axis acceleration sensor module',
      'steering angle sensor module',
      'tire pressure monitor module',
      'park brake control module',
      'brake system control module',
      'steering effort control module',
      'power steering control module',
      'ride level control module',
    ],
  ],
  [
    'U0140',
    [
      'body control module (BCM)',
      ...['A', 'B', 'C', 'D', 'E'].map((x) => `body control module ${x}`),
      ...['A', 'B', 'C', 'D', 'E'].map((x) => `gateway ${x}`),
    ],
  ],
  [
    'U0151',
    [
      'restraints (airbag) control module',
      'left side restraints control module',
      'right side restraints control module',
      'occupant classification system module',
      'instrument panel cluster (IPC) control module',
      'information centre A',
      'information centre B',
      'head-up display',
      'parking assist control module',
      'audible alert control module',
      'compass module',
      'navigation display module',
      'navigation control module',
      'HVAC control module',
      'rear HVAC control module',
      'auxiliary heater control module',
      'immobilizer control module',
      'vehicle security control module',
      'sunroof control module',
    ],
  ],
  ['U0170', ['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((x) => `restraints system sensor ${x}`)],
  [
    'U0180',
    [
      'automatic lighting control module',
      'headlamp levelling control module',
      'front lighting control module',
      'rear lighting control module',
      'radio',
      'antenna control module',
      'audio amplifier',
      ...['A', 'B', 'C', 'D'].map((x) => `digital disc player/changer module ${x}`),
      'television',
      'personal computer',
      'digital audio control module A',
      'digital audio control module B',
      'subscription entertainment receiver module',
      'rear seat entertainment control module',
      'telephone control module',
      'telematics control module',
      ...['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((x) => `door control module ${x}`),
      'folding top control module',
      'movable roof control module',
      ...['A', 'B', 'C', 'D'].map((x) => `seat control module ${x}`),
      'steering column control module',
      'mirror control module',
      'remote function actuation module',
      ...['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((x) => `door switch ${x}`),
      ...['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((x) => `door window motor ${x}`),
      'heated steering wheel module',
      'rear gate module',
      'rain sensing module',
      'left side obstacle detection control module',
      'right side obstacle detection control module',
      'convenience recall module',
      'front distance range sensor (adaptive cruise control)',
    ],
  ],
];

// U03xx (software incompatible) and U04xx (invalid data) share one module numbering.
const U03_U04_MODULES = [
  ...POWERTRAIN_MODULES,
  'four-wheel-drive clutch control module',
  'anti-lock brake system (ABS) control module',
  'vehicle dynamics control module',
  'park brake control module',
  'brake system control module',
  'steering effort control module',
  'power steering control module',
  'ride level control module',
  'body control module (BCM)',
  'instrument panel control module',
  'HVAC control module',
  'auxiliary heater control module',
  'immobilizer control module',
  'vehicle security control module',
  'steering angle sensor module',
  'steering column control module',
  'tire pressure monitor module',
  'body control module A',
] as const;

const u0: Entry[] = [
  ...u00,
  ...lostCommunication.flatMap(([start, modules]) => run(start, modules.map((m) => `Lost communication with the ${m}`))),
  ['U0300', 'Control module software incompatible (internal)'],
  ...run('U0301', U03_U04_MODULES.map((m) => `Software incompatible with the ${m}`)),
  ['U0400', 'Invalid data received (module not identified)'],
  ...run('U0401', U03_U04_MODULES.map((m) => `Invalid data received from the ${m}`)),
];

export const NETWORK: readonly Entry[] = u0;
