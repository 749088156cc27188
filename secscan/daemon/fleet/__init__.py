"""Fleet mode (issue 17): the nightly round spread over worker processes on several hosts.

Built on Procrastinate, a task queue kept in PostgreSQL (the ``fleet`` extra): the queue, the
periodic ticks, the locks and secscan's store live in one database. :mod:`.keys` names rounds and
picks queues, :mod:`.schema` migrates, :mod:`.rounds` records rounds once, :mod:`.engine` defines
the tasks, :mod:`.scan` and :mod:`.watchdog` are their bodies, :mod:`.worker` runs a worker
process, :mod:`.status` reads the state back.
"""
