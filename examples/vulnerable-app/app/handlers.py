"""Request handlers with classic Python security mistakes (intentional, for the demo)."""

import hashlib
import pickle
import subprocess

import yaml


def ping(host):
    # B602: shell=True with user input -> command injection
    return subprocess.call("ping -c 1 " + host, shell=True)


def load_session(blob):
    # B301: unpickling untrusted data runs arbitrary code
    return pickle.loads(blob)


def load_config(text):
    # B506: yaml.load without SafeLoader
    return yaml.load(text)


def cache_key(data):
    # B324: md5 for a security-sensitive hash
    return hashlib.md5(data).hexdigest()


def run_report(name):
    # B602 again: identical code in a second place gets its own identity (occurrence index)
    return subprocess.call("ping -c 1 " + name, shell=True)
