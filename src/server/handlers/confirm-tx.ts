/** Publisher confirms (RabbitMQ's confirm class) and transactions (AMQP 0-9-1 §1.9). */
import { preconditionFailed } from '../../errors.js';
import { type Method, MethodId } from '../../protocol/generated/methods.js';
import type { Channel, Unacked } from '../channel.js';
import { routePublished } from './basic.js';

export function handleConfirmTxMethod(ch: Channel, m: Method): boolean {
  switch (m.id) {
    case MethodId.ConfirmSelect:
      if (ch.tx !== null) throw preconditionFailed('cannot switch from tx to confirm mode');
      ch.confirmMode = true;
      ch.reply(m, { id: MethodId.ConfirmSelectOk });
      return true;
    case MethodId.TxSelect:
      if (ch.confirmMode) throw preconditionFailed('cannot switch from confirm to tx mode');
      if (ch.tx === null) ch.tx = { publishes: [], acks: [] };
      ch.send({ id: MethodId.TxSelectOk });
      return true;
    case MethodId.TxCommit: {
      const tx = ch.tx;
      if (tx === null) throw preconditionFailed('channel is not transactional');
      ch.tx = { publishes: [], acks: [] };
      for (const p of tx.publishes) routePublished(ch, p.exchange, p.mandatory, p.message, 0);
      for (const a of tx.acks) ch.settle(a.items, a.requeue);
      // commit-ok only once the transaction's persistent messages and acks are on disk.
      const persistence = ch.vhost.persistence;
      if (persistence === null) ch.send({ id: MethodId.TxCommitOk });
      else persistence.afterCommit(() => { if (ch.state === 'open') ch.send({ id: MethodId.TxCommitOk }); });
      return true;
    }
    case MethodId.TxRollback: {
      const tx = ch.tx;
      if (tx === null) throw preconditionFailed('channel is not transactional');
      ch.tx = { publishes: [], acks: [] };
      restoreUnacked(ch, tx.acks.flatMap((a) => a.items));
      ch.send({ id: MethodId.TxRollbackOk });
      return true;
    }
    default:
      return false;
  }
}

/** Rolled-back acks make their deliveries unacked again, keeping the map in delivery-tag order. */
function restoreUnacked(ch: Channel, items: readonly Unacked[]): void {
  if (items.length === 0) return;
  const all = [...ch.unacked.values(), ...items].sort((a, b) => a.tag - b.tag);
  ch.unacked.clear();
  for (const u of all) ch.unacked.set(u.tag, u);
}
