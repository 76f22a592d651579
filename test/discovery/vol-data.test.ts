import test from 'ava';
import { parseVolData, VOL_DATA_MAX_BYTES } from '../../src/discovery/vol-data.js';
import { MalformedFileError } from '../../src/errors.js';
import { volDataJson } from '../fixtures/kubelet-tree.js';

test('reads the driver and volume handle kubelet wrote', (t) => {
  t.deepEqual(parseVolData('f', volDataJson('csi.juicefs.com', 'pvc-9', 'pvc-9')), { driverName: 'csi.juicefs.com', volumeHandle: 'pvc-9' });
});

test('rejects non-JSON, non-objects, missing or mistyped fields and huge files, naming the file', (t) => {
  const bad = [
    '{not json',
    '[]',
    'null',
    '"x"',
    '{}',
    '{"driverName":"csi.juicefs.com"}',
    '{"driverName":1,"volumeHandle":"v"}',
    '{"driverName":"csi.juicefs.com","volumeHandle":""}',
    '{"driverName":"csi.juicefs.com","volumeHandle":' + JSON.stringify('x'.repeat(VOL_DATA_MAX_BYTES)) + '}',
  ];
  for (const text of bad) {
    const err = t.throws(() => parseVolData('/k/vol_data.json', text), { instanceOf: MalformedFileError }, text.slice(0, 40));
    t.true(err!.message.startsWith('/k/vol_data.json: '));
  }
});
