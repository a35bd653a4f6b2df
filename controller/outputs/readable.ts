/**
 * One line a person reads (`kawin logs`): time, action, result, policy, operation,
 * source → resource. Empty fields show as `-` so columns stay in place.
 */
import type { AlertRecord, LogRecord, MessageRecord } from '../events/index.js';

const or = (s: string | undefined): string => (s ? s : '-');

export function readableAlert(a: AlertRecord): string {
  return `${a.UpdatedTime} ${or(a.Action)} ${or(a.Result)} ${or(a.PolicyName)} ${or(a.Operation)} ${or(a.Source)} → ${or(a.Resource)}` +
    (a.Type === 'MatchedHostPolicy' || a.Type === 'MatchedPolicy' ? '' : ` [${a.Type}${a.Message ? `: ${a.Message}` : ''}]`);
}

export function readableLog(l: LogRecord): string {
  return `${l.UpdatedTime} ${or(l.Type)} ${or(l.Result)} - ${or(l.Operation)} ${or(l.Source)} → ${or(l.Resource)}`;
}

export function readableMessage(m: MessageRecord): string {
  return `${m.UpdatedTime} ${or(m.Level)} ${or(m.Type)} ${m.Message}`;
}
