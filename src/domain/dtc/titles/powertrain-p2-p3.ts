// Titles for SAE-defined P2 codes and the SAE part of P3 (P34xx cylinder deactivation), in this
// project's own words.
import {
  CIRCUIT3,
  CONTROL3,
  O2_POSITIONS,
  SENSOR4,
  SENSOR5,
  SOLENOID5,
  SPEED4,
  bankSensor,
  family,
  letter,
  numbered,
  offset,
  perUnit,
  run,
} from './rules.ts';
import type { Entry } from './rules.ts';

const TPS = (x: string) => `Throttle/pedal position sensor/switch ${x}`;
const O2 = (bank: number, sensor: number) => `Oxygen sensor ${bankSensor(bank, sensor)}`;
const EGT = (bank: number, sensor: number) => `Exhaust gas temperature sensor ${bankSensor(bank, sensor)}`;
const OPEN_LOW_HIGH = ['circuit open or faulty', 'circuit low', 'circuit high'] as const;
const ACTUATOR4 = ['circuit open or faulty', 'circuit implausible or out of range', 'circuit low', 'circuit high'] as const;

const p20: Entry[] = [
  ['P2000', 'NOx trap efficiency below threshold (bank 1)'],
  ['P2001', 'NOx trap efficiency below threshold (bank 2)'],
  ['P2002', 'Diesel particulate filter efficiency below threshold (bank 1)'],
  ['P2003', 'Diesel particulate filter efficiency below threshold (bank 2)'],
  ['P2004', 'Intake manifold runner control stuck open (bank 1)'],
  ['P2005', 'Intake manifold runner control stuck open (bank 2)'],
  ['P2006', 'Intake manifold runner control stuck closed (bank 1)'],
  ['P2007', 'Intake manifold runner control stuck closed (bank 2)'],
  ...family('P2008', 'Intake manifold runner control (bank 1)', OPEN_LOW_HIGH),
  ...family('P2011', 'Intake manifold runner control (bank 2)', OPEN_LOW_HIGH),
  ...family('P2014', 'Intake manifold runner position sensor/switch (bank 1)', SENSOR5),
  ...family('P2019', 'Intake manifold runner position sensor/switch (bank 2)', SENSOR5),
  ...family('P2024', 'EVAP fuel vapour temperature sensor', [
    'circuit fault',
    'performance problem',
    'circuit low',
    'circuit high',
    'signal intermittent',
  ]),
  ['P2029', 'Fuel-fired heater disabled'],
  ['P2030', 'Fuel-fired heater performance problem'],
  ...family('P2031', EGT(1, 2), CIRCUIT3),
  ...family('P2034', EGT(2, 2), CIRCUIT3),
  ...family('P2037', 'Reductant (DEF) injection air pressure sensor', SENSOR5),
  ...family('P2042', 'Reductant (DEF) temperature sensor', SENSOR5),
  ...family('P2047', 'Reductant (DEF) injector (bank 1, unit 1)', OPEN_LOW_HIGH),
  ...family('P2050', 'Reductant (DEF) injector (bank 2, unit 1)', OPEN_LOW_HIGH),
  ...family('P2053', 'Reductant (DEF) injector (bank 1, unit 2)', OPEN_LOW_HIGH),
  ...family('P2056', 'Reductant (DEF) injector (bank 2, unit 2)', OPEN_LOW_HIGH),
  ...family('P2059', 'Reductant (DEF) injection air pump', CONTROL3),
  ...family('P2062', 'Reductant (DEF) supply', CONTROL3),
  ...family('P2065', 'Fuel level sensor B', SENSOR5),
  ['P2070', 'Intake manifold tuning valve stuck open'],
  ['P2071', 'Intake manifold tuning valve stuck closed'],
  ['P2072', 'Electronic throttle control blocked by ice'],
  ['P2073', 'Manifold pressure or mass air flow does not match throttle position at idle'],
  ['P2074', 'Manifold pressure or mass air flow does not match throttle position at higher load'],
  ...family('P2075', 'Intake manifold tuning valve position sensor/switch', SENSOR5),
  ['P203F', 'Reductant (DEF) level too low'],
  ['P204F', 'Reductant (DEF) system performance problem (bank 1)'],
  ['P207F', 'Reductant (DEF) quality performance problem'],
  ['P20B9', 'Reductant (DEF) heater A control circuit open or faulty'],
  ['P20E8', 'Reductant (DEF) pressure too low'],
  ['P20E9', 'Reductant (DEF) pressure too high'],
  ['P20EE', 'SCR NOx catalyst efficiency below threshold (bank 1)'],
  ...([
    [1, 1],
    [2, 1],
    [1, 2],
    [2, 2],
  ] as const).flatMap(([bank, sensor], k): Entry[] =>
    family(`P${2080 + k * 2}`, EGT(bank, sensor), ['circuit implausible or out of range', 'circuit intermittent']),
  ),
  ...([
    ['A', 1],
    ['B', 1],
    ['A', 2],
    ['B', 2],
  ] as const).flatMap(([x, bank], k): Entry[] =>
    family(`P${2088 + k * 2}`, `Camshaft position actuator ${x} control (bank ${bank})`, ['circuit low', 'circuit high']),
  ),
  ...[1, 2].flatMap((bank): Entry[] =>
    family(`P${2096 + (bank - 1) * 2}`, `Post-catalyst fuel trim (bank ${bank})`, ['system too lean', 'system too rich']),
  ),
];

const p21: Entry[] = [
  ...family('P2100', 'Throttle actuator control motor', ACTUATOR4),
  ['P2104', 'Throttle actuator control system: forced idle'],
  ['P2105', 'Throttle actuator control system: forced engine shutdown'],
  ['P2106', 'Throttle actuator control system: forced limited power'],
  ['P2107', 'Throttle actuator control module processor fault'],
  ['P2108', 'Throttle actuator control module performance problem'],
  ['P2109', `${TPS('A')}: minimum stop performance problem`],
  ['P2110', 'Throttle actuator control system: forced limited engine speed'],
  ['P2111', 'Throttle actuator control system stuck open'],
  ['P2112', 'Throttle actuator control system stuck closed'],
  ...numbered('P2113', 5, 1, (n) => `${TPS(letter(n + 1))}: minimum stop performance problem`),
  ['P2118', 'Throttle actuator control motor current implausible or out of range'],
  ['P2119', 'Throttle actuator control throttle body implausible or out of range'],
  ...family('P2120', TPS('D'), SENSOR5),
  ...family('P2125', TPS('E'), SENSOR5),
  ...family('P2130', TPS('F'), SENSOR5),
  ...run(
    'P2135',
    ['A/B', 'A/C', 'B/C', 'D/E', 'D/F', 'E/F'].map((pair) => `Throttle/pedal position sensors ${pair}: voltages disagree`),
  ),
  ['P2141', 'EGR throttle control circuit low'],
  ['P2142', 'EGR throttle control circuit high'],
  ...family('P2143', 'EGR vent control', OPEN_LOW_HIGH),
  ...numbered('P2146', 4, 3, letter).flatMap(([code, x]) => family(code, `Fuel injector group ${x} supply voltage`, OPEN_LOW_HIGH)),
  ...family('P2158', 'Vehicle speed sensor B', [
    'malfunction',
    'signal implausible or out of range',
    'circuit low',
    'signal intermittent or erratic',
  ]),
  ['P2162', 'Vehicle speed sensors A and B disagree'],
  ...numbered('P2163', 6, 1, (n) => `${TPS(letter(n))}: maximum stop performance problem`),
  ...family('P2169', 'Exhaust pressure regulator vent solenoid', CONTROL3),
  ['P2172', 'High air flow or vacuum leak detected (sudden acceleration)'],
  ['P2173', 'High air flow or vacuum leak detected (gradual acceleration)'],
  ['P2174', 'Low air flow or restriction detected (sudden acceleration)'],
  ['P2175', 'Low air flow or restriction detected (gradual acceleration)'],
  ['P2176', 'Throttle actuator control system: idle position not learned'],
  ...([
    ['off idle', 'P2177'],
    ['at idle', 'P2187'],
    ['at higher load', 'P2191'],
  ] as const).flatMap(([when, start]): Entry[] =>
    run(start, [
      `Fuel system too lean ${when} (bank 1)`,
      `Fuel system too rich ${when} (bank 1)`,
      `Fuel system too lean ${when} (bank 2)`,
      `Fuel system too rich ${when} (bank 2)`,
    ]),
  ),
  ['P2181', 'Cooling system performance problem'],
  ...family('P2182', 'Engine coolant temperature sensor 2', SENSOR5),
  ...family('P2195', O2(1, 1), ['signal stuck lean', 'signal stuck rich']),
  ...family('P2197', O2(2, 1), ['signal stuck lean', 'signal stuck rich']),
  ['P2199', 'Intake air temperature sensors 1 and 2 disagree'],
];

const p22: Entry[] = [
  ...[1, 2].flatMap((bank): Entry[] => {
    const start = bank === 1 ? 2200 : 2213;
    return [
      ...family(`P${start}`, `NOx sensor (bank ${bank})`, SENSOR5),
      ...family(`P${start + 5}`, `NOx sensor heater (bank ${bank})`, CONTROL3),
      ...family(`P${start + 8}`, `NOx sensor heater sense (bank ${bank})`, SENSOR5),
    ];
  }),
  ...family('P2226', 'Barometric pressure sensor', SENSOR5),
  ...run(
    'P2231',
    O2_POSITIONS.map(([bank, sensor]) => `${O2(bank, sensor)}: signal circuit shorted to heater circuit`),
  ),
  ...family('P2237', `${O2(1, 1)} positive current control`, OPEN_LOW_HIGH),
  ...family('P2240', `${O2(2, 1)} positive current control`, OPEN_LOW_HIGH),
  ...family('P2243', `${O2(1, 1)} reference voltage`, ['circuit open', 'performance problem', 'circuit low', 'circuit high']),
  ...family('P2247', `${O2(2, 1)} reference voltage`, ['circuit open', 'performance problem', 'circuit low', 'circuit high']),
  ...family('P2251', `${O2(1, 1)} negative current control`, OPEN_LOW_HIGH),
  ...family('P2254', `${O2(2, 1)} negative current control`, OPEN_LOW_HIGH),
  ...family('P2257', 'Secondary air injection control A', ['circuit low', 'circuit high']),
  ...family('P2259', 'Secondary air injection control B', ['circuit low', 'circuit high']),
  ['P2261', 'Turbocharger/supercharger bypass valve mechanical fault'],
  ['P2262', 'Turbocharger/supercharger boost pressure not detected (mechanical)'],
  ['P2263', 'Turbocharger/supercharger boost system performance problem'],
  ...family('P2264', 'Water-in-fuel sensor', SENSOR5),
  ['P2269', 'Water in fuel detected'],
  ...([
    [1, 2],
    [2, 2],
    [1, 3],
    [2, 3],
  ] as const).flatMap(([bank, sensor], k): Entry[] =>
    family(`P${2270 + k * 2}`, O2(bank, sensor), ['signal stuck lean', 'signal stuck rich']),
  ),
  ['P2278', 'Oxygen sensor signals swapped between bank 1 sensor 3 and bank 2 sensor 3'],
  ['P2279', 'Intake air system leak'],
  ['P2280', 'Air flow restriction or air leak between the air filter and the MAF sensor'],
  ['P2281', 'Air leak between the MAF sensor and the throttle body'],
  ['P2282', 'Air leak between the throttle body and the intake valves'],
  ...family('P2283', 'Injector control pressure sensor', SENSOR5),
  ...run('P2288', [
    'Injector control pressure too high',
    'Injector control pressure too high with the engine off',
    'Injector control pressure too low',
    'Injector control pressure too low while cranking',
    'Injector control pressure erratic',
  ]),
  ['P2293', 'Fuel pressure regulator 2 performance problem'],
  ...family('P2294', 'Fuel pressure regulator 2', CONTROL3),
  ['P2297', `${O2(1, 1)}: out of range during deceleration`],
  ['P2298', `${O2(2, 1)}: out of range during deceleration`],
  ['P2299', 'Brake pedal and accelerator pedal pressed at the same time (positions incompatible)'],
];

const p23: Entry[] = [
  ...perUnit('P2300', 12, 3, (n) => `Ignition coil ${letter(n)}`, [
    'primary control circuit low',
    'primary control circuit high',
    'secondary circuit fault',
  ]),
  ...numbered('P2336', 12, 1, (n) => `Cylinder ${n} above knock threshold`),
];

const p24: Entry[] = [
  ...family('P2400', 'EVAP leak detection pump control', OPEN_LOW_HIGH),
  ...family('P2403', 'EVAP leak detection pump sense', ['circuit open or faulty', ...SENSOR5.slice(1)]),
  ['P2414', `${O2(1, 1)}: exhaust sample error`],
  ['P2415', `${O2(2, 1)}: exhaust sample error`],
  ...family('P2418', 'EVAP switching valve control', OPEN_LOW_HIGH),
  ['P2421', 'EVAP vent valve stuck open'],
  ['P2422', 'EVAP vent valve stuck closed'],
  ['P2423', 'Hydrocarbon adsorption catalyst efficiency below threshold (bank 1)'],
  ['P2424', 'Hydrocarbon adsorption catalyst efficiency below threshold (bank 2)'],
  ...family('P2425', 'EGR cooling valve control', OPEN_LOW_HIGH),
  ['P2428', 'Exhaust gas temperature too high (bank 1)'],
  ['P2429', 'Exhaust gas temperature too high (bank 2)'],
  ...family('P242A', EGT(1, 3), SENSOR5),
  ['P242F', 'Diesel particulate filter restricted by ash accumulation'],
  ...family('P2430', 'Secondary air injection air flow/pressure sensor (bank 1)', SENSOR5),
  ...family('P2435', 'Secondary air injection air flow/pressure sensor (bank 2)', SENSOR5),
  ...[1, 2].flatMap((bank): Entry[] =>
    family(`P${2440 + (bank - 1) * 2}`, `Secondary air injection switching valve (bank ${bank})`, ['stuck open', 'stuck closed']),
  ),
  ...[1, 2].flatMap((bank): Entry[] =>
    family(`P${2444 + (bank - 1) * 2}`, `Secondary air injection pump (bank ${bank})`, ['stuck on', 'stuck off']),
  ),
  ['P244A', 'Diesel particulate filter differential pressure too low (bank 1)'],
  ['P244B', 'Diesel particulate filter differential pressure too high (bank 1)'],
  ...family('P2452', 'Diesel particulate filter pressure sensor A', SENSOR5),
  ['P2457', 'EGR cooling system performance problem'],
  ['P2458', 'Diesel particulate filter regeneration duration problem'],
  ['P2459', 'Diesel particulate filter regeneration frequency problem'],
  ['P2463', 'Diesel particulate filter restricted by soot accumulation'],
  ...run(
    'P2A00',
    O2_POSITIONS.map(([bank, sensor]) => `${O2(bank, sensor)}: circuit implausible or out of range`),
  ),
];

const p25: Entry[] = [
  ['P2500', 'Generator warning lamp ("L" terminal) circuit low'],
  ['P2501', 'Generator warning lamp ("L" terminal) circuit high'],
  ['P2502', 'Charging system voltage fault'],
  ['P2503', 'Charging system voltage low'],
  ['P2504', 'Charging system voltage high'],
  ...family('P2505', 'ECM/PCM power input signal', ['fault', ...SENSOR5.slice(1)]),
  ['P2510', 'ECM/PCM power relay sense circuit implausible or out of range'],
  ['P2511', 'ECM/PCM power relay sense circuit intermittent'],
  ...family('P2512', 'Event data recorder request', ['circuit open', 'circuit low', 'circuit high']),
  ...family('P2515', 'A/C refrigerant pressure sensor B', SENSOR4),
  ...family('P2519', 'A/C request A', CIRCUIT3),
  ...family('P2522', 'A/C request B', CIRCUIT3),
  ...family('P2525', 'Vacuum reservoir pressure sensor', SENSOR5),
  ...family('P2530', 'Ignition switch "run" position', CIRCUIT3),
  ...family('P2533', 'Ignition switch "run/start" position', CIRCUIT3),
  ...family('P2536', 'Ignition switch "accessory" position', CIRCUIT3),
  ...family('P2539', 'Low-pressure fuel system sensor', SENSOR5),
  ...family('P2544', 'Torque management request input signal A', ['fault', ...SENSOR4.slice(1)]),
  ...family('P2548', 'Torque management request input signal B', ['fault', ...SENSOR4.slice(1)]),
  ...family('P2552', 'Throttle/fuel inhibit', SENSOR4),
  ...family('P2556', 'Engine coolant level sensor/switch', SENSOR4),
  ['P2560', 'Engine coolant level low'],
  ['P2561', 'A/C control module asked for the malfunction indicator lamp'],
  ...family('P2562', 'Turbocharger boost control position sensor', SENSOR5),
  ...family('P2567', 'Direct ozone reduction catalyst temperature sensor', SENSOR5),
];

const p26: Entry[] = [
  ...family('P2600', 'Coolant pump control', ACTUATOR4),
  ...run('P2604', [
    'Intake air heater A circuit implausible or out of range',
    'Intake air heater A circuit open',
    'Intake air heater B circuit implausible or out of range',
    'Intake air heater B circuit low',
    'Intake air heater B circuit high',
    'Intake air heater system performance problem',
  ]),
  ['P2610', 'ECM/PCM internal engine-off timer performance problem'],
  ...family('P2611', 'A/C refrigerant distribution valve control', OPEN_LOW_HIGH),
  ...family('P2614', 'Camshaft position signal output', OPEN_LOW_HIGH),
  ...family('P2617', 'Crankshaft position signal output', OPEN_LOW_HIGH),
  ...family('P2620', 'Throttle position output', OPEN_LOW_HIGH),
  ...family('P2626', `${O2(1, 1)} pumping current trim`, OPEN_LOW_HIGH),
  ...family('P2629', `${O2(2, 1)} pumping current trim`, OPEN_LOW_HIGH),
  ...family('P2632', 'Fuel pump B', CONTROL3),
  ['P2635', 'Fuel pump A low flow or performance problem'],
];

const p27: Entry[] = [
  ...numbered('P2700', 6, 1, (n) => `Transmission friction element ${letter(n)} apply time implausible or out of range`),
  ...family('P2706', 'Shift solenoid F', SOLENOID5),
  ['P2711', 'Gear disengaged unexpectedly (mechanical)'],
  ['P2712', 'Hydraulic power unit leaking'],
  ...['D', 'E', 'F'].flatMap((x, k): Entry[] => [
    ...family(`P${2713 + k * 9}`, `Pressure control solenoid ${x}`, SOLENOID5),
    ...family(`P${2718 + k * 9}`, `Pressure control solenoid ${x} control`, ACTUATOR4),
  ]),
  ...family('P2740', 'Transmission fluid temperature sensor B', SENSOR5),
  ...family('P2745', 'Intermediate shaft speed sensor B', SPEED4),
  ...family('P2749', 'Intermediate shaft speed sensor C', SPEED4),
  ...family('P2753', 'Transmission fluid cooler control', OPEN_LOW_HIGH),
  ...family('P2756', 'Torque converter clutch pressure control solenoid', SOLENOID5),
  // J2012 lists "high" before "low" here, unlike the other control-circuit families.
  ...family('P2761', 'Torque converter clutch pressure control solenoid control', [
    'circuit open or faulty',
    'circuit implausible or out of range',
    'circuit high',
    'circuit low',
  ]),
  ...family('P2765', 'Input/turbine speed sensor B', SPEED4),
  ['P2769', 'Torque converter clutch circuit low'],
  ['P2770', 'Torque converter clutch circuit high'],
  ...family('P2771', 'Four-wheel-drive low switch', SENSOR4),
  ...family('P2775', 'Upshift switch', SENSOR5.slice(1)),
  ...family('P2779', 'Downshift switch', SENSOR5.slice(1)),
  ['P2783', 'Torque converter temperature too high'],
  ['P2784', 'Input/turbine speed sensors A and B disagree'],
  ['P2785', 'Clutch actuator temperature too high'],
  ['P2786', 'Gear shift actuator temperature too high'],
  ['P2787', 'Clutch temperature too high'],
  ['P2788', 'Automated manual transmission adaptive learning at its limit'],
  ['P2789', 'Clutch adaptive learning at its limit'],
  ...family('P2790', 'Gate select direction', CIRCUIT3),
  ...family('P2793', 'Gear shift direction', CIRCUIT3),
  ...family('P2800', 'Transmission range sensor B (PRNDL input)', SENSOR5),
  ['P2805', 'Transmission range sensors A and B disagree'],
];

// P34xx: cylinder deactivation, eight codes per cylinder between the two bank-level codes.
const VALVE4 = ['control circuit open or faulty', 'performance problem', 'control circuit low', 'control circuit high'] as const;
const p34: Entry[] = [
  ['P3400', 'Cylinder deactivation system fault (bank 1)'],
  ...numbered('P3401', 12, 8, (n) => String(n)).flatMap(([code, n]): Entry[] => [
    ...family(code, `Cylinder ${n} deactivation/intake valve`, VALVE4),
    ...family(offset(code, 4), `Cylinder ${n} exhaust valve`, VALVE4),
  ]),
  ['P3497', 'Cylinder deactivation system fault (bank 2)'],
];

export const POWERTRAIN_P2_P3: readonly Entry[] = [...p20, ...p21, ...p22, ...p23, ...p24, ...p25, ...p26, ...p27, ...p34];
