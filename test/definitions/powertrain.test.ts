import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { modelPowertrain, powertrainOf } from '../../src/definitions/powertrain.ts';

describe('powertrainOf', () => {
  it('is ICE for combustion fuels or nothing known', () => {
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline' }), 'ICE');
    assert.equal(powertrainOf({ primaryFuel: 'Diesel' }), 'ICE');
    assert.equal(powertrainOf({ primaryFuel: 'Flexible Fuel Vehicle (FFV)', secondaryFuel: 'Gasoline' }), 'ICE');
    assert.equal(powertrainOf({}), 'ICE');
  });

  it('is BEV for electric alone', () => {
    assert.equal(powertrainOf({ primaryFuel: 'Electric' }), 'BEV');
  });

  it('is HEV for combustion backed by electric, PHEV for electric backed by combustion', () => {
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', secondaryFuel: 'Electric' }), 'HEV');
    assert.equal(powertrainOf({ primaryFuel: 'Electric', secondaryFuel: 'Gasoline' }), 'PHEV');
  });

  it('reads plug-in and hybrid hints from the engine description', () => {
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', secondaryFuel: 'Electric', engineInfo: 'PHEV' }), 'PHEV');
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', engineInfo: 'Plug-in Hybrid' }), 'PHEV');
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', engineInfo: 'HEV' }), 'HEV');
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', engineInfo: 'CHEVROLET 5.3L' }), 'ICE');
  });

  it('is FCEV for fuel cells and hydrogen', () => {
    assert.equal(powertrainOf({ primaryFuel: 'Fuel Cell' }), 'FCEV');
    assert.equal(powertrainOf({ primaryFuel: 'Compressed Hydrogen/Hydrogen' }), 'FCEV');
  });

  it('prefers the electrification level when vPIC gives one', () => {
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', electrificationLevel: 'Strong HEV (Hybrid Electric Vehicle)' }), 'HEV');
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', electrificationLevel: 'PHEV (Plug-in Hybrid Electric Vehicle)' }), 'PHEV');
    assert.equal(powertrainOf({ primaryFuel: 'Gasoline', electrificationLevel: 'BEV (Battery Electric Vehicle)' }), 'BEV');
    assert.equal(powertrainOf({ electrificationLevel: 'FCEV (Fuel Cell Electric Vehicle)' }), 'FCEV');
  });
});

describe('modelPowertrain', () => {
  const counts = (primary: [string, number][], secondary: [string, number][] = [], electrification: [string, number][] = []) => ({
    primary: new Map(primary),
    secondary: new Map(secondary),
    electrification: new Map(electrification),
  });

  it('follows a single primary fuel', () => {
    assert.equal(modelPowertrain(counts([['Electric', 3]])), 'BEV');
    assert.equal(modelPowertrain(counts([['Fuel Cell', 1]])), 'FCEV');
    assert.equal(modelPowertrain(counts([['Gasoline', 24]])), 'ICE');
  });

  it('is ICE when variants disagree or nothing is known', () => {
    assert.equal(modelPowertrain(counts([['Gasoline', 1], ['Electric', 1]])), 'ICE');
    assert.equal(modelPowertrain(counts([])), 'ICE');
  });

  it('counts a secondary fuel only when it covers every primary pattern', () => {
    assert.equal(modelPowertrain(counts([['Gasoline', 1]], [['Electric', 1]])), 'HEV');
    assert.equal(modelPowertrain(counts([['Electric', 2]], [['Gasoline', 1]])), 'BEV');
    assert.equal(modelPowertrain(counts([['Gasoline', 12]], [['Electric', 2]])), 'ICE');
  });

  it('uses a unanimous electrification level first', () => {
    assert.equal(modelPowertrain(counts([['Gasoline', 1]], [], [['PHEV (Plug-in Hybrid Electric Vehicle)', 1]])), 'PHEV');
  });
});
