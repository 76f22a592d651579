// Paths and loaders for the deployment files, read from the source tree (the
// compiled tests run from dist/test/deploy).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MANIFESTS = path.join(ROOT, 'manifests');
/** Kustomize overlays of manifests/, one per kubelet root. */
export const OVERLAYS = path.join(ROOT, 'overlays');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface Kustomization {
  namespace: string;
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

export function readYamlDocs(file: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  return docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as unknown;
  });
}

export function kustomization(): Kustomization {
  return readYamlDocs(path.join(MANIFESTS, 'kustomization.yaml'))[0] as Kustomization;
}

/** Every object the kustomization lists, in order, with the file it came from. */
export function manifestObjects(): { file: string; obj: K8sObject }[] {
  return kustomization().resources.flatMap((r) =>
    readYamlDocs(path.join(MANIFESTS, r))
      .filter((d) => d !== null)
      .map((d) => ({ file: r, obj: d as K8sObject })),
  );
}

export function objectOf<T = K8sObject>(kind: string): T {
  const found = manifestObjects().filter(({ obj }) => obj.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!.obj as T;
}

/** The PrometheusRule's groups as a plain Prometheus rule file. */
export function ruleGroups(): { name: string; rules: Record<string, unknown>[] }[] {
  return (objectOf('PrometheusRule') as unknown as { spec: { groups: { name: string; rules: Record<string, unknown>[] }[] } }).spec.groups;
}
