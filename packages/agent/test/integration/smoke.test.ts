import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReference, type Served } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';

describe('smoke', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveReference();
  });
  afterAll(async () => served.close());

  it('spawns and reads back through the agent', async () => {
    const remote = await served.connect();
    const s = spec();
    await remote.spawn(s);
    const info = await remote.getInfo(s.uuid);
    expect(info.powerState).toBe('RUNNING');
    expect(info).toStrictEqual(await served.reference.getInfo(s.uuid));
  });
});
