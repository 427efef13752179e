// mayknow pages: small enhancements; every page works without this script.
// - forms marked data-swap post in place and replace the card's actions with the answer;
// - "Why?" links open their panel in place;
// - names kept in this browser (never sent) are shown next to matching accounts.
'use strict';

const NAMES_BY_USER = 'mayknow.namesByUser';

function localNames() {
  try {
    return JSON.parse(localStorage.getItem(NAMES_BY_USER) || '{}');
  } catch {
    return {};
  }
}

function showLocalNames(root) {
  const names = localNames();
  for (const item of root.querySelectorAll('[data-user-id]')) {
    const name = names[item.dataset.userId];
    const slot = item.querySelector('[data-local-name]');
    if (name && slot) {
      slot.querySelector('b').textContent = name;
      slot.hidden = false;
    }
  }
}

async function post(form) {
  const response = await fetch(form.action, {
    method: 'POST',
    body: new FormData(form),
    headers: { 'X-Requested-With': 'fetch' },
    credentials: 'same-origin',
  });
  return response.text();
}

document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-swap')) return;
  const card = form.closest('[data-card]');
  const target = card && card.querySelector('[data-outcome]');
  if (!target) return;
  event.preventDefault();
  const html = await post(form);
  const holder = document.createElement('div');
  holder.innerHTML = html;
  const answer = holder.querySelector('.outcome, .problem') || holder;
  target.replaceWith(answer);
  const panel = card.querySelector('.why');
  if (panel) panel.hidden = true;
  answer.setAttribute('tabindex', '-1');
  answer.focus();
});

document.addEventListener('click', async (event) => {
  const link = event.target instanceof Element && event.target.closest('a[data-why]');
  if (!link) return;
  event.preventDefault();
  const panel = document.getElementById(link.getAttribute('aria-controls'));
  const open = link.getAttribute('aria-expanded') === 'true';
  if (!open && !panel.dataset.loaded) {
    const response = await fetch(link.href, {
      headers: { 'X-Requested-With': 'fetch' },
      credentials: 'same-origin',
    });
    panel.innerHTML = await response.text();
    panel.dataset.loaded = '1';
  }
  panel.hidden = open;
  link.setAttribute('aria-expanded', String(!open));
  if (!open) {
    const heading = panel.querySelector('h3');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }
});

document.addEventListener('DOMContentLoaded', () => showLocalNames(document));
