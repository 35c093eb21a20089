/**
 * Outbound fraud rules: which outside numbers a tenant may call at all, whoever dials.
 *
 *   premium-rate prefixes  denied (toll-fraud favourites: pay-per-minute lines, international
 *                          premium and satellite networks)
 *   international          denied: an E.164 number outside the tenant's home country code
 *   allow-list             a tenant's prefixes ("+44", "+1900") lift either rule for the
 *                          numbers they start
 *
 * A number without "+" is a national number in the trunk's country: domestic by definition,
 * still checked against the premium list with the home code put in front of it.
 *
 * Premium prefixes come from national numbering plans (NANP 900/976, UK 09 and 0871-0873, France
 * 089, Germany 0900/0137, Italy 899, Spain 803-807, Australia 190) and ITU-T E.164 international
 * codes for shared services (+881 satellite, +882/+883 international networks, +979 premium).
 */

export const PREMIUM_PREFIXES: readonly string[] = [
  '+1900',
  '+1976',
  '+449',
  '+44871',
  '+44872',
  '+44873',
  '+3389',
  '+49900',
  '+49137',
  '+39899',
  '+34803',
  '+34806',
  '+34807',
  '+61190',
  '+881',
  '+882',
  '+883',
  '+979',
];

/** A tenant's rules: its home country calling code, and the prefixes it may call all the same. */
export interface DialRules {
  homeCountryCode: string;
  allowedPrefixes: readonly string[];
}

export type DialRefusal = 'premium_rate' | 'international';

/** "+<digits>" of a number as dialled (spaces, dashes, dots and brackets removed). */
export function toE164(number: string, homeCountryCode: string): string {
  const digits = number.replace(/[\s().-]/g, '');
  if (digits.startsWith('+')) return digits;
  if (digits.startsWith('00')) return `+${digits.slice(2)}`;
  // National format: a trunk prefix 0 (most of the world) or 1 (NANP) is not part of E.164.
  const national = homeCountryCode === '1' ? digits.replace(/^1(?=\d{10}$)/, '') : digits.replace(/^0/, '');
  return `+${homeCountryCode}${national}`;
}

/** Why `number` may not be dialled under `rules`, or undefined when it may. */
export function dialRefusal(number: string, rules: DialRules): DialRefusal | undefined {
  const e164 = toE164(number, rules.homeCountryCode);
  if (rules.allowedPrefixes.some((p) => e164.startsWith(p))) return undefined;
  if (PREMIUM_PREFIXES.some((p) => e164.startsWith(p))) return 'premium_rate';
  const raw = number.replace(/[\s().-]/g, '');
  const international = (raw.startsWith('+') || raw.startsWith('00')) && !e164.startsWith(`+${rules.homeCountryCode}`);
  return international ? 'international' : undefined;
}

/** The message an API caller or the CDR sees for a refusal. */
export function refusalMessage(refusal: DialRefusal, number: string): string {
  return refusal === 'premium_rate'
    ? `${number} is a premium-rate number; the tenant's allowed prefixes must include it`
    : `${number} is international; the tenant's allowed prefixes must include it`;
}
