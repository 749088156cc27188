"""A deliberately vulnerable demo application scanned by secscan's README example and tests.

Every weakness here is intentional; the secrets are fake canaries that no service accepts.
"""
