import test from 'ava';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { imageRuntime } from '../../bench/lib/image-runtime.js';
import { IMAGE } from '../../bench/lib/prober.js';

const DOCKERFILE = fs.readFileSync(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)), 'utf8');

test('the benches start the daemon with the final stage’s ENV and the node flags of its ENTRYPOINT', (t) => {
  const text = [
    'FROM node AS build',
    'ENV NODE_OPTIONS="--stack-size=1" BUILD_ONLY=1',
    'FROM node',
    'ENV NODE_ENV=production',
    'ENV NODE_OPTIONS="--max-semi-space-size=1 --max-old-space-size=256" MALLOC_ARENA_MAX=2',
    'ENTRYPOINT ["node", "--optimize-for-size", "/app/dist/src/cli/index.js"]',
    'CMD ["serve"]',
  ].join('\n');
  t.deepEqual(imageRuntime(text), {
    env: { NODE_ENV: 'production', NODE_OPTIONS: '--max-semi-space-size=1 --max-old-space-size=256', MALLOC_ARENA_MAX: '2' },
    nodeArgs: ['--optimize-for-size'],
  });
  t.deepEqual(imageRuntime('FROM node\nENTRYPOINT ["/app/run"]\n').nodeArgs, [], 'an ENTRYPOINT that is not node has no node flags');
});

test('what the benches read from the shipped Dockerfile is what its final stage says', (t) => {
  t.is(IMAGE.env.NODE_OPTIONS, /^ENV NODE_OPTIONS="([^"]*)"/m.exec(DOCKERFILE.split(/^FROM /m).at(-1)!)?.[1]);
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(DOCKERFILE)![1]!) as string[];
  t.deepEqual([...IMAGE.nodeArgs], entrypoint.slice(1, -1));
});
