export function price(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

export function label(name: string): string {
  return name.trim().toUpperCase();
}
