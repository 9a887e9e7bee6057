"""Shared by the interop handlers: the worker must never outlive the test that started it.

The test starts each worker in its own process group and kills the group when it ends; if the
test process itself dies first (killed, crashed), this watchdog notices the new parent and kills
the whole group (the worker and the SDK's forked heartbeat process)."""
import os
import signal
import threading
import time


def exit_with_parent():
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                if os.getpgrp() == os.getpid():
                    os.killpg(os.getpgrp(), signal.SIGKILL)
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
