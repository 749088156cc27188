import subprocess


def archive(folder):
    return subprocess.call("tar czf backup.tgz " + folder, shell=True)
