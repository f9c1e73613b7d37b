/**
 * The BUNDLED direct-invoke verify handler: a configuration it cannot load is answered "not allowed",
 * logged and counted (never thrown); a normal request still verifies against the real registry.
 */
import { context, handlerSuite } from './harness';

const s = handlerSuite('verify');

test('a configuration error answers allowed: false with a ConfigurationErrors metric, never throws', async () => {
  process.env.VERIFIER_CONFIG_PATH = '/nonexistent/config.json';
  const res = await s.handler({ images: [s.h.signed] }, context());
  expect(res.allowed).toBe(false);
  expect(res.results).toEqual([]);
  expect(res.error).toMatch(/^configuration error: cannot read the handler configuration/);
  expect(s.out.lines.find((l) => l.level === 'ERROR')).toMatchObject({ message: 'configuration error', handler: 'verify' });
  expect(s.out.emf()[0]).toMatchObject({ ConfigurationErrors: 1 });
});

test('a normal request verifies (signed allowed, unsigned not)', async () => {
  s.h.configure({});
  expect(await s.handler({ images: [s.h.signed] }, context())).toMatchObject({ allowed: true });
  expect(await s.handler({ images: [s.h.signed, s.h.unsigned] }, context())).toMatchObject({ allowed: false });
});
