import { configuration } from '../../db/schema';
import { findSetting, settingSpecs, type SettingSpec } from '../../core/settings';
import { writeSetting } from '../../db/settings';
import { defineCommand } from '../command';
import { paramError } from '../errors';
import { listResponse } from '../list';
import { listParams, optional, required } from '../params';

const view = (spec: SettingSpec, value: string) => ({
  name: spec.name,
  value,
  defaultvalue: spec.defaultValue,
  category: spec.category,
  description: spec.description,
  type: spec.type,
  isdynamic: true,
});

export const listConfigurations = defineCommand({
  name: 'listConfigurations',
  description: 'Lists all configurations',
  isAsync: false,
  params: {
    name: optional.string('lists configuration by name'),
    category: optional.string('lists configurations by category'),
    ...listParams,
  },
  async handle(p, { db }) {
    const changed = new Map((await db.select().from(configuration)).map((r) => [r.name, r.value]));
    const rows = settingSpecs
      .filter((s) => !p.name || s.name === p.name.toLowerCase())
      .filter((s) => !p.category || s.category.toLowerCase() === p.category.toLowerCase())
      .map((s) => view(s, changed.get(s.name) ?? s.defaultValue));
    return listResponse('configuration', rows, p);
  },
});

export const updateConfiguration = defineCommand({
  name: 'updateConfiguration',
  description: 'Updates a configuration',
  isAsync: false,
  params: {
    name: required.string('the name of the configuration'),
    value: optional.text('the value of the configuration (empty: back to the default)'),
  },
  async handle(p, { db }) {
    const spec = findSetting(p.name);
    if (!spec) throw paramError(`There is no configuration named ${p.name}; listConfigurations lists them.`);
    const value = p.value ?? spec.defaultValue;
    const problem = spec.problem(value);
    if (problem)
      throw paramError(`Configuration ${spec.name} cannot be ${JSON.stringify(value)}: expected ${problem}.`);
    await writeSetting(db, spec.name, value);
    return { configuration: view(spec, value) };
  },
});
