// Runs tests at a chosen instant: `TEST_NOW=2027-01-01T15:59:59Z npm run test:calendar`. Each test
// file starts at that instant and the clock runs on at real speed from there, so a file that starts
// a second before midnight in Shanghai crosses into the next day (and year) while it runs.
//
// Only vitest loads this file (setupFiles in vitest.config.ts): functions/ never reads TEST_NOW, so
// no configuration of a deployed or `npm start` platform can move its clock. It shifts `Date`
// (new Date(), Date.now(), Date()) in the test process, where the local runtime and its functions
// run too; timers, performance.now() and child processes keep real time.
const at = process.env.TEST_NOW;

const SHIFT = Symbol.for('consortium.testClock');
type Shifted = DateConstructor & { [SHIFT]?: { real: DateConstructor; offset: number } };

if (at) {
  const target = Date.parse(at);
  if (Number.isNaN(target)) throw new Error(`TEST_NOW is not an ISO-8601 instant: ${at}`);
  const current = globalThis.Date as Shifted;
  const real = current[SHIFT]?.real ?? current;
  const state = { real, offset: target - real.now() };
  const now = () => real.now() + state.offset;
  globalThis.Date = new Proxy(real, {
    construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [now()], newTarget),
    apply: () => new real(now()).toString(),
    get: (target, prop, receiver) => (prop === 'now' ? now : prop === SHIFT ? state : Reflect.get(target, prop, receiver)),
  });
}
