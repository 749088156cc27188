import ast
import hashlib
import secrets


def parse_literal(text):
    return ast.literal_eval(text)


def digest(data):
    return hashlib.sha256(data).hexdigest()


def session_id():
    return secrets.token_urlsafe(32)
