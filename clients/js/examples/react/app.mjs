// The example: useHerald subscribed to the topics in the form, showing status, transport,
// errors and the newest events. ?gateway=URL (default http://localhost:8080), ?topic=a,b and
// ?types=x,y: the event types to receive over SSE besides unnamed ones (an EventSource delivers a
// named event only to a listener for its name; see docs/clients.md).
import { createElement as h, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useHerald } from '@herald/client/react';

const params = new URLSearchParams(location.search);
const gateway = params.get('gateway') || 'http://localhost:8080';
const topicsOf = (text) => text.split(',').map((t) => t.trim()).filter(Boolean);
const types = topicsOf(params.get('types') || 'ticket.created,ticket.updated');

function App() {
  const [topics, setTopics] = useState(topicsOf(params.get('topic') || 'demo'));
  const [draft, setDraft] = useState(topics.join(','));
  const { status, transport, events, error, reset, lastEventId } = useHerald(topics, { url: gateway, types, keep: 50 });
  // For tests and curious readers: what the hook returned last.
  window.__heraldReact = { topics, status, transport, events, error, reset, lastEventId };
  return h('main', null,
    h('h1', null, 'Herald + React'),
    h('p', null,
      h('span', { id: 'status', className: 'badge ' + status }, status),
      transport ? h('span', null, ' over ', h('code', { id: 'transport' }, transport)) : null,
      ' from ', h('code', null, gateway)),
    error ? h('p', { id: 'error', className: 'error' }, error.error + (error.message ? ': ' + error.message : '')) : null,
    reset ? h('p', { id: 'reset' }, 'reset of ', h('code', null, reset.topic), ' (', reset.reason, '): reload its state') : null,
    h('form', {
      id: 'subscribe',
      onSubmit: (e) => {
        e.preventDefault();
        setTopics(topicsOf(draft));
      },
    },
    h('label', null, 'Topics ', h('input', { id: 'topics', value: draft, onChange: (e) => setDraft(e.target.value) })),
    ' ', h('button', { type: 'submit' }, 'Subscribe')),
    events.length === 0
      ? h('p', { id: 'empty' }, 'No event yet: curl -X POST http://localhost:8081/publish -H \'Content-Type: application/json\' -d \'{"topic":"'
        + topics[0] + '","type":"hello","data":{"n":1}}\'')
      : h('ul', { id: 'events' }, events.slice().reverse().map((e) => h('li', { key: e.id },
        h('code', { className: 'topic' }, e.topic || '?'), ' ', h('strong', { className: 'type' }, e.type), ' ',
        h('span', { className: 'data' }, JSON.stringify(e.data))))));
}

createRoot(document.getElementById('root')).render(h(App));
