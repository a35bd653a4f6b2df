/**
 * The narrow view of the Kubernetes API the CRD source needs: paged lists, one watch
 * stream, and create/patch for Events. Authentication (in-cluster token, kubeconfig
 * certificates, tokens, exec plugins) is @kubernetes/client-node's KubeConfig; the
 * requests are our own so that every one has a timeout and an abort signal we hold (the
 * library's Watch only hands its abort controller back once headers arrived, which a
 * half-open connection never delivers).
 */
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import fetch, { type RequestInit, type Response } from 'node-fetch';
import { KubeApiError } from './errors.js';
import type { KubeList, KubeObject, WatchEvent } from './types.js';

export interface KubeApi {
  /** One page of a list (`continue` token in metadata when more follow). */
  list(path: string, query: Record<string, string>, signal: AbortSignal): Promise<KubeList>;
  /** A watch stream: resolves when the server closes it, rejects on failure or abort. */
  watch(path: string, query: Record<string, string>, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
  /** One JSON request (Events): create or patch. */
  send(method: 'POST' | 'PATCH', path: string, body: unknown, signal: AbortSignal): Promise<KubeObject>;
}

export interface KubeApiOptions {
  /** Kubeconfig file; absent: the in-cluster service account. */
  kubeconfig?: string;
  /** Sent as User-Agent, so the API server's audit log tells the agents apart. */
  userAgent: string;
  /** Per request (lists, Events); a watch is bounded by its own timeout and watchdog. */
  requestTimeoutMs: number;
}

export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  if (!kc.getCurrentCluster()) throw new KubeApiError(`no current cluster in ${kubeconfig ?? 'the in-cluster config'}`);
  return kc;
}

export class HttpKubeApi implements KubeApi {
  private readonly server: string;

  constructor(private readonly kc: KubeConfig, private readonly options: KubeApiOptions) {
    this.server = kc.getCurrentCluster()!.server.replace(/\/$/, '');
  }

  async list(path: string, query: Record<string, string>, signal: AbortSignal): Promise<KubeList> {
    return (await this.json('GET', path, query, undefined, signal)) as KubeList;
  }

  async send(method: 'POST' | 'PATCH', path: string, body: unknown, signal: AbortSignal): Promise<KubeObject> {
    return (await this.json(method, path, {}, body, signal)) as KubeObject;
  }

  async watch(path: string, query: Record<string, string>, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const response = await this.request('GET', path, { ...query, watch: 'true' }, undefined, signal);
    if (response.status !== 200) throw await apiError('GET', path, response);
    const lines = createInterface({ input: response.body as NodeJS.ReadableStream, crlfDelay: Infinity });
    const aborted = (): void => lines.close();
    signal.addEventListener('abort', aborted, { once: true });
    try {
      for await (const line of lines) {
        if (signal.aborted) break;
        if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
      }
    } finally {
      signal.removeEventListener('abort', aborted);
      (response.body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    }
    if (signal.aborted) throw signal.reason as Error;
  }

  private async json(method: string, path: string, query: Record<string, string>, body: unknown, outer: AbortSignal): Promise<unknown> {
    const signal = AbortSignal.any([outer, AbortSignal.timeout(this.options.requestTimeoutMs)]);
    const response = await this.request(method, path, query, body, signal);
    if (response.status < 200 || response.status >= 300) throw await apiError(method, path, response);
    return response.json();
  }

  private async request(method: string, path: string, query: Record<string, string>, body: unknown, signal: AbortSignal): Promise<Response> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const init = (await this.kc.applyToFetchOptions({})) as RequestInit;
    const headers = init.headers as unknown as Headers;
    headers.set('User-Agent', this.options.userAgent);
    headers.set('Accept', 'application/json');
    if (body !== undefined) {
      headers.set('Content-Type', method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    }
    const plain: Record<string, string> = {};
    headers.forEach((v, k) => (plain[k] = v));
    try {
      return await fetch(url.toString(), {
        ...init, method, headers: plain, body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal as RequestInit['signal'],
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason as Error;
      throw new KubeApiError(`${method} ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
}

async function apiError(method: string, path: string, response: Response): Promise<KubeApiError> {
  let message = response.statusText;
  try {
    const status = (await response.json()) as { message?: string };
    if (status.message) message = status.message;
  } catch { /* a body that is not a Status: the status line says enough */ }
  return new KubeApiError(`${method} ${path}: ${response.status} ${message}`, { status: response.status });
}
