"""``form_fill``: several named values into the page's form, each matched to its field by the
field's autocomplete token, name, id, label or placeholder."""

from __future__ import annotations

from typing import Any

from lanterna.actions.context import ActionContext
from lanterna.actions.locate import ActionFailed
from lanterna.models.actions import FormFill

# Words that name each key's field, best first; the first word is also its autocomplete token.
_HINTS: dict[str, list[str]] = {
    "title": ["honorific-prefix", "title"],
    "first_name": ["given-name", "first name", "firstname", "first_name", "fname"],
    "middle_name": ["additional-name", "middle name", "middlename", "middle_name"],
    "last_name": ["family-name", "last name", "lastname", "last_name", "surname", "lname"],
    "full_name": ["name", "full name", "fullname", "full_name", "your name"],
    "email": ["email", "e-mail", "mail"],
    "company": ["organization", "company", "organisation"],
    "address1": ["address-line1", "address line 1", "address1", "street", "address"],
    "address2": ["address-line2", "address line 2", "address2", "apartment", "suite"],
    "address3": ["address-line3", "address line 3", "address3"],
    "city": ["address-level2", "city", "town"],
    "state": ["address-level1", "state", "province", "region"],
    "postal_code": ["postal-code", "postal code", "postcode", "zip"],
    "country": ["country", "country-name"],
    "phone": ["tel", "phone", "telephone", "mobile"],
    "cc_name": ["cc-name", "name on card", "cardholder", "card holder"],
    "cc_number": ["cc-number", "card number", "cardnumber", "cc_number"],
    "cc_exp_month": ["cc-exp-month", "exp month", "expiry month"],
    "cc_exp_year": ["cc-exp-year", "exp year", "expiry year"],
    "cc_exp": ["cc-exp", "expiration", "expiry", "exp date"],
    "cc_cvv": ["cc-csc", "cvv", "cvc", "security code"],
    "username": ["username", "user name", "login", "user"],
    "password": ["current-password", "password", "passwd"],
    "current_password": ["current-password", "current password", "password"],
    "new_password": ["new-password", "new password"],
    "totp": ["one-time-code", "otp", "code", "2fa", "verification"],
}

# Marks the best field for each key with data-lanterna-form; returns the keys that found none.
_MARK_JS = """
(wanted) => {
  const fields = [...document.querySelectorAll('input, textarea, select')].filter(el => {
    const t = (el.type || '').toLowerCase();
    return !['hidden', 'submit', 'button', 'reset', 'image', 'file', 'checkbox', 'radio'].includes(t)
      && !el.disabled && el.getClientRects().length > 0;
  });
  const describe = el => {
    const labels = [...(el.labels || [])].map(l => l.innerText);
    return {
      auto: (el.getAttribute('autocomplete') || '').toLowerCase().split(/\\s+/),
      words: [el.name, el.id, el.placeholder, el.getAttribute('aria-label'), ...labels]
        .filter(Boolean).join(' ').toLowerCase().replace(/[_-]+/g, ' '),
      type: (el.type || '').toLowerCase(),
    };
  };
  const used = new Set(), missing = [];
  for (const [key, hints] of wanted) {
    let best = null, bestScore = 0;
    for (const el of fields) {
      if (used.has(el)) continue;
      const d = describe(el);
      let score = 0;
      if (d.auto.includes(hints[0])) score = 100;
      hints.forEach((h, i) => {
        if (d.words.includes(h.replace(/[_-]+/g, ' '))) score = Math.max(score, 50 - i);
      });
      if (key.includes('password') && d.type === 'password') score += 20;
      if (key === 'email' && d.type === 'email') score += 20;
      if (key === 'phone' && d.type === 'tel') score += 20;
      if (score > bestScore) { best = el; bestScore = score; }
    }
    if (best) { used.add(best); best.setAttribute('data-lanterna-form', key); } else missing.push(key);
  }
  return missing;
}
"""

_UNMARK_JS = (
    "() => document.querySelectorAll('[data-lanterna-form]')"
    ".forEach(e => e.removeAttribute('data-lanterna-form'))"
)


async def form_fill(ctx: ActionContext, action: FormFill) -> str:
    page = ctx.page
    wanted: list[list[Any]] = [[key, _HINTS[key]] for key in action.value]
    missing: list[str] = await page.evaluate(_MARK_JS, wanted)
    if len(missing) == len(wanted):
        raise ActionFailed(
            f"no field of this page matches {', '.join(missing)}; fill the fields one by one with fill"
        )
    filled = []
    try:
        for key, value in action.value.items():
            if key in missing:
                continue
            field = page.locator(f'[data-lanterna-form="{key}"]')
            if await field.evaluate("el => el.tagName") == "SELECT":
                await field.select_option(label=value, timeout=ctx.timeout_ms)
            else:
                await field.fill(value, timeout=ctx.timeout_ms)
            filled.append(key)
    finally:
        await page.evaluate(_UNMARK_JS)
    message = f"filled {', '.join(filled)}"
    if missing:
        message += f"; no field found for {', '.join(missing)} (fill those with fill)"
    return message
