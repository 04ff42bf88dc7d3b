/** Dates as shown in tables: fixed locale and UTC so server and client render the same text. */
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export function formatDate(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return dateFormat.format(new Date(value));
}

export function formatDateTime(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return `${dateTimeFormat.format(new Date(value))} UTC`;
}
