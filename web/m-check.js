// The checks the handheld makes before it keeps a change, the same rules
// as the service's (gridgov_spatial::idcard, gridgov_app::households::check),
// so that what is refused is refused on the phone, offline, not an hour
// later at sync. Each answer is a message key and its values, or null.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

/** The check character of 17 digits (ISO 7064 MOD 11-2), or null. */
export function checkCharacter(first17) {
  if (!/^[0-9]{17}$/.test(first17)) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK[sum % 11];
}

function isDate(y, m, d) {
  if (y < 1800 || y > 2099 || m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

/**
 * A resident ID number (GB 11643-1999): 18 characters, 17 digits and a
 * digit or X, a birth date between 1800 and 2099, the check character.
 * null when it passes, else {key, params}.
 */
export function checkResidentId(s) {
  const n = [...s].length;
  if (n !== 18) return { key: "m.check.id.length", params: { n } };
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(s)) return { key: "m.check.id.chars", params: {} };
  const head = s.slice(0, 17);
  const expected = checkCharacter(head);
  if (expected === null) return { key: "m.check.id.chars", params: {} };
  const found = s[17].toUpperCase();
  if (!/^[0-9X]$/.test(found)) return { key: "m.check.id.chars", params: {} };
  const date = head.slice(6, 14);
  if (!isDate(+date.slice(0, 4), +date.slice(4, 6), +date.slice(6, 8))) {
    return { key: "m.check.id.birth", params: { date } };
  }
  if (found !== expected) return { key: "m.check.id.check", params: { expected, found } };
  return null;
}

/** A household's fields as the service checks them; every problem, by field. */
export function checkHousehold(h) {
  const out = [];
  const short = (v, field, n) => {
    // eslint-disable-next-line no-control-regex
    if (v !== null && v !== undefined && ([...v].length > n || /[\x00-\x1f\x7f]/.test(v))) {
      out.push({ field, key: "m.check.too_long", params: { n } });
    }
  };
  short(h.room, "room", 32);
  short(h.head_name, "head_name", 64);
  short(h.phone, "phone", 32);
  if (h.phone && !/^[0-9+\- ]*$/.test(h.phone)) out.push({ field: "phone", key: "m.check.phone", params: {} });
  if (!Number.isInteger(h.headcount) || h.headcount < 0 || h.headcount > 65535) {
    out.push({ field: "headcount", key: "m.check.headcount", params: {} });
  }
  if (h.id_number) {
    const e = checkResidentId(h.id_number);
    if (e) out.push({ field: "id_number", ...e });
  }
  return out;
}
