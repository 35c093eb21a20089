/** Voicemails the user may see, each with its tickets or a button to make one from it. */
import { useQuery } from '@tanstack/react-query';
import { dateTime, duration } from '../../../lib/format.ts';
import { navigate } from '../../../lib/router.ts';
import { voicemailsQuery, type Voicemail } from '../api/contacts.ts';
import { ticketFromVoicemail, useTicketMutation, useTickets } from '../api/tickets.ts';

function VoicemailRow({ vm }: { vm: Voicemail }) {
  const create = useTicketMutation(() => ticketFromVoicemail(vm.id));
  const linked = useTickets({}).data?.items.find(
    (t) => t.source?.kind === 'voicemail' && t.source.sourceId === String(vm.id),
  );
  const open = (id: number) => navigate(`/helpdesk/tickets/${id}`);
  return (
    <tr data-testid="voicemail-row">
      <td>{dateTime(vm.createdAt)}</td>
      <td>{vm.fromNumber ?? 'unknown'}</td>
      <td>{duration(vm.durationMs)}</td>
      <td>{vm.boxName ?? (vm.boxUserId ? 'personal' : '—')}</td>
      <td>
        {linked ? (
          <button className="secondary" onClick={() => open(linked.id)}>
            Open ticket #{linked.id}
          </button>
        ) : (
          <button
            disabled={create.isPending}
            onClick={() => create.mutate(undefined, { onSuccess: (t) => open(t.id) })}
          >
            Create ticket
          </button>
        )}
        {create.error && <span className="error"> {create.error.message}</span>}
      </td>
    </tr>
  );
}

export function VoicemailPanel() {
  const voicemails = useQuery(voicemailsQuery);
  return (
    <section className="card wide" aria-label="Voicemail">
      <h2>Voicemail</h2>
      {voicemails.error && <p className="error">{voicemails.error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Left</th>
            <th>From</th>
            <th>Length</th>
            <th>Box</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(voicemails.data?.items ?? []).map((vm) => (
            <VoicemailRow key={vm.id} vm={vm} />
          ))}
        </tbody>
      </table>
      {voicemails.data?.items.length === 0 && <p className="muted">No voicemail.</p>}
    </section>
  );
}
