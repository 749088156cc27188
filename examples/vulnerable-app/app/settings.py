"""Configuration with committed credentials (fake canaries; intentional, for the demo)."""

DEBUG = True

# detect-secrets: AWS Access Key; bandit does not see it
AWS_ACCESS_KEY_ID = "AKIAQYLPMN5HHHFPZAM2"

# both scanners report this one: detect-secrets (Secret Keyword) and bandit B105,
# whose message would quote the value if secscan did not redact it
password = "canary-Pa55w0rd-7f3e9c"

DATABASE_URL = "postgres://admin:canary-db-9d8e7f@db.internal:5432/app"


def connect():
    # B108: hard-coded temporary directory
    return open("/tmp/app.sock", "w")
