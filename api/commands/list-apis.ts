import { defineCommand, type ApiCommand } from '../command';
import { optional } from '../params';

/** listApis in the shape CloudMonkey's `sync` reads. Built over the command table it is given. */
export function makeListApis(all: () => readonly ApiCommand[]) {
  return defineCommand({
    name: 'listApis',
    description: 'lists all available apis on the server',
    isAsync: false,
    params: { name: optional.string('API name') },
    async handle(p) {
      const api = all()
        .filter((c) => !p.name || c.name.toLowerCase() === p.name.toLowerCase())
        .map((c) => ({
          name: c.name,
          description: c.description,
          isasync: c.isAsync,
          since: '4.2.0',
          related: '',
          type: '',
          params: Object.entries(c.params).map(([name, spec]) => ({
            name,
            description: spec.description,
            type: spec.type,
            required: spec.required,
            length: 255,
            since: '4.2.0',
            related: '',
          })),
          response: [],
        }));
      return Promise.resolve({ count: api.length, api });
    },
  });
}
