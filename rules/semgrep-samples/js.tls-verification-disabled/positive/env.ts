export function insecure(): void {
  // ruleid: js.tls-verification-disabled
  process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = 0;
}
