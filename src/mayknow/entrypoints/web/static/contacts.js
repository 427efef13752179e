// The address book page. The browser reads a vCard or CSV file, or pasted lines, and
// keeps each name in its own storage keyed by the number; only numbers go to the server
// (POST /v1/contacts/sync), or, in private mode, only blinded elements
// (/v1/contacts/private/*, RFC 9497 OPRF via the vendored private-discovery module).
// Matches come back by index, so this page pairs them with the names it kept.

const BOOK = 'mayknow.book'; // normalized number -> name, in this browser only
const NAMES_BY_USER = 'mayknow.namesByUser'; // account id -> name, in this browser only

const root = document.getElementById('book');

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || '{}');
  } catch {
    return {};
  }
}

function say(name, values = {}) {
  let text = root.dataset[name] || '';
  for (const [key, value] of Object.entries(values)) text = text.replaceAll(`{${key}}`, value);
  document.getElementById('book-status').textContent = text;
}

/** A number as the server reads it, for mainland China by default: E.164 where we can. */
export function normalize(raw) {
  let text = String(raw).trim().replace(/[\s\-().\u00a0]/g, '');
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  if (/^\+\d{6,15}$/.test(text)) return text;
  if (/^86\d{11}$/.test(text)) return `+${text}`;
  if (/^1\d{10}$/.test(text)) return `+86${text}`;
  return text;
}

function unfold(text) {
  return text.replace(/\r\n/g, '\n').replace(/\n[ \t]/g, '');
}

/** [{name, number}] from a vCard file: FN (or N) and every TEL of each card. */
export function parseVcard(text) {
  const entries = [];
  let name = '';
  let numbers = [];
  for (const line of unfold(text).split('\n')) {
    const [head, ...rest] = line.split(':');
    const key = head.split(';')[0].toUpperCase();
    const value = rest.join(':').trim();
    if (key === 'BEGIN') {
      name = '';
      numbers = [];
    } else if (key === 'FN') {
      name = value;
    } else if (key === 'N' && !name) {
      name = value.split(';').filter(Boolean).reverse().join(' ');
    } else if (key === 'TEL') {
      numbers.push(value.replace(/^tel:/i, ''));
    } else if (key === 'END') {
      for (const number of numbers) entries.push({ name, number });
    }
  }
  return entries;
}

function csvRows(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === ';' || ch === '\t') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows.filter((r) => r.some((c) => c.trim()));
}

const PHONEY = /^[+\d][\d\s\-().]{4,}$/;

/** [{name, number}] from CSV: a header naming the columns, else the first phone-like cell. */
export function parseCsv(text) {
  const rows = csvRows(text);
  if (!rows.length) return [];
  const header = rows[0].map((c) => c.trim().toLowerCase());
  const phoneAt = header.findIndex((c) => /phone|tel|mobile|电话|手机|号码/.test(c));
  const nameAt = header.findIndex((c) => /name|姓名|名字|名称/.test(c));
  const body = phoneAt >= 0 ? rows.slice(1) : rows;
  const entries = [];
  for (const row of body) {
    const at = phoneAt >= 0 ? phoneAt : row.findIndex((c) => PHONEY.test(c.trim()));
    if (at < 0 || !row[at].trim()) continue;
    const name = nameAt >= 0 ? row[nameAt] : row.filter((_, i) => i !== at).join(' ');
    entries.push({ name: name.trim(), number: row[at].trim() });
  }
  return entries;
}

/** Pasted lines: a number alone, or a name and a number separated by a comma or tab. */
export function parsePasted(text) {
  return parseCsv(text);
}

function entriesOf(text, filename = '') {
  if (/BEGIN:VCARD/i.test(text) || /\.vcf$|\.vcard$/i.test(filename)) return parseVcard(text);
  return parseCsv(text);
}

function remember(entries) {
  const book = read(BOOK);
  for (const { name, number } of entries) if (name) book[normalize(number)] = name;
  localStorage.setItem(BOOK, JSON.stringify(book));
}

function show(matches, numbers) {
  const book = read(BOOK);
  const byUser = read(NAMES_BY_USER);
  const list = document.getElementById('book-found');
  list.replaceChildren();
  for (const match of matches) {
    const local = book[numbers[match.index]] || '';
    if (local) byUser[match.user_id] = local;
    const item = document.createElement('li');
    item.textContent = local ? `${local} → ${match.nickname}` : match.nickname;
    list.append(item);
  }
  localStorage.setItem(NAMES_BY_USER, JSON.stringify(byUser));
}

/** The list of matches kept, as the server now has it, with this browser's names. */
async function refreshMatches() {
  const response = await fetch(window.location.href, { credentials: 'same-origin' });
  const page = new DOMParser().parseFromString(await response.text(), 'text/html');
  const fresh = page.getElementById('matches');
  const here = document.getElementById('matches');
  if (!fresh || !here) return;
  const names = read(NAMES_BY_USER);
  for (const item of fresh.querySelectorAll('[data-user-id]')) {
    const slot = item.querySelector('[data-local-name]');
    if (slot && names[item.dataset.userId]) {
      slot.querySelector('b').textContent = names[item.dataset.userId];
      slot.hidden = false;
    }
  }
  here.replaceWith(fresh);
}

async function api(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error ? answer.error.message : response.statusText);
  return answer;
}

async function findPlain(numbers) {
  say('msgSending', { n: numbers.length });
  const answer = await api('/v1/contacts/sync', { phones: numbers });
  show(answer.matched, numbers);
  say('msgDone', {
    matched: answer.matched.length,
    discarded: answer.discarded,
    invalid: answer.invalid.length,
  });
}

async function findPrivately(numbers) {
  const { discover, toBase64 } = await import('/static/vendor/private-discovery/index.js');
  const e164 = numbers.filter((n) => /^\+[1-9]\d{6,14}$/.test(n));
  say('msgSendingPrivate', { n: e164.length });
  const filter = await fetch('/v1/contacts/private/filter', { credentials: 'same-origin' });
  if (!filter.ok) throw new Error(filter.statusText);
  const filterBytes = new Uint8Array(await filter.arrayBuffer());
  const { matches } = await discover({
    numbers: e164,
    filterBytes,
    evaluate: async (elements) => (await api('/v1/contacts/private/evaluate', { elements })).evaluated,
  });
  const outputs = matches.map((m) => toBase64(m.output));
  const answer = await api('/v1/contacts/private/report', { outputs, replace: true });
  const found = answer.matched.map((m) => ({ ...m, index: matches[m.index].index }));
  show(found, e164);
  say('msgDonePrivate', { matched: found.length, n: e164.length, hits: matches.length });
}

async function run(mode) {
  const file = document.getElementById('book-file').files[0];
  const pasted = document.getElementById('book-paste').value;
  const entries = [];
  if (file) entries.push(...entriesOf(await file.text(), file.name));
  if (pasted.trim()) entries.push(...parsePasted(pasted));
  if (!entries.length) {
    say('msgEmpty');
    return;
  }
  say('msgRead', { n: entries.length });
  remember(entries);
  const numbers = [...new Set(entries.map((e) => normalize(e.number)))];
  try {
    await (mode === 'private' ? findPrivately(numbers) : findPlain(numbers));
    await refreshMatches();
  } catch (error) {
    say('msgError', { message: error.message });
  }
}

if (root) {
  for (const element of root.querySelectorAll('[data-script-only]')) element.hidden = false;
  document.getElementById('book-form').addEventListener('submit', (event) => {
    event.preventDefault();
    run(event.submitter ? event.submitter.value : 'plain');
  });
  document.getElementById('book-forget').addEventListener('click', () => {
    localStorage.removeItem(BOOK);
    localStorage.removeItem(NAMES_BY_USER);
    document.getElementById('book-found').replaceChildren();
    say('msgForgot');
  });
}
