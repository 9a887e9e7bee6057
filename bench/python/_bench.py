"""Shared by the benchmark's Python scripts: exit (with the whole process group, i.e. the SDK's
forked heartbeat process too) when the benchmark that started this process dies."""
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
