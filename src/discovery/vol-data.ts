// kubelet writes vol_data.json next to each CSI target before it calls the driver:
//   {"driverName":"csi.juicefs.com","volumeHandle":"pvc-…","specVolID":"pvc-…",…}
// Only the driver and the handle matter here.

import { MalformedFileError } from '../errors.js';

export interface VolData {
  readonly driverName: string;
  readonly volumeHandle: string;
}

/** kubelet's file is a few hundred bytes; anything far larger is not one. */
export const VOL_DATA_MAX_BYTES = 64 * 1024;

export function parseVolData(file: string, text: string): VolData {
  if (text.length > VOL_DATA_MAX_BYTES) {
    throw new MalformedFileError(file, `larger than ${VOL_DATA_MAX_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new MalformedFileError(file, 'not valid JSON', { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new MalformedFileError(file, 'not a JSON object');
  }
  const { driverName, volumeHandle } = data as Record<string, unknown>;
  if (typeof driverName !== 'string' || driverName === '') {
    throw new MalformedFileError(file, 'driverName missing or not a string');
  }
  if (typeof volumeHandle !== 'string' || volumeHandle === '') {
    throw new MalformedFileError(file, 'volumeHandle missing or not a string');
  }
  return { driverName, volumeHandle };
}
