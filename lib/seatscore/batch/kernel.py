"""A Jupyter kernel kept warm for many reports, and the papermill engine that runs on it.

Starting a kernel and importing the report's libraries (polars, altair, vl-convert, duckdb, the
Seatscore package) costs about as much as executing a report. A rendering process therefore
keeps one kernel and executes report after report on it: papermill still parameterizes the
notebook, records each cell and keeps the notebook of a failed report, only the kernel is not
started anew. Before each report the kernel's namespace is emptied (``%reset -f``), so a report
sees the names its own cells define and nothing a previous report left. Modules stay imported,
which is the point; the notebooks keep no state outside their namespace (each sets its chart
renderer and opens its own database connection).

A kernel is discarded and the next report starts a fresh one when it died, when a report ran
past its time (the kernel may still be busy with it), or after :data:`REPORTS_PER_KERNEL`
reports, so that whatever a long-lived process accumulates stays bounded.
"""

from __future__ import annotations

import papermill
import zmq
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines

from seatscore.core import config

KERNEL = "python3"
ENGINE = "seatscore-warm"
"""The papermill engine name under which :class:`WarmEngine` is registered."""
REPORTS_PER_KERNEL = 50
"""A kernel executes at most this many notebooks, then a fresh one is started."""
RESET_TIMEOUT_S = 60


class KernelManager(AsyncKernelManager):
    """Encrypts the kernel's local sockets (CurveZMQ) where the kernel supports it.

    ipykernel ≥ 7.3 warns on every start over unencrypted TCP, which buries the progress bar.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if zmq.has("curve"):
            self.transport_encryption = "auto"


class WarmKernel:
    """One kernel, started on first use in ``notebooks/`` and reused until discarded.

    Use as a context manager, or call :meth:`close` when done: the kernel is a child process.
    Not thread-safe; one per rendering process.
    """

    def __init__(self, kernel_name: str = KERNEL) -> None:
        self.kernel_name = kernel_name
        self.km: KernelManager | None = None
        self.kc = None
        self.used = 0
        """Notebooks executed on the current kernel."""
        self.started = 0
        """Kernels started in this object's life (a figure for tests and benchmarks)."""

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ready(self, start_timeout: float):
        """The kernel manager and client for the next notebook: a kernel whose namespace is
        empty, started now if there is none or the last one is used up or dead. Raises
        whatever starting the kernel raises (``RuntimeError`` when it does not answer within
        ``start_timeout`` seconds); the half-started kernel is shut down first."""
        if self.km is not None and (
            self.used >= REPORTS_PER_KERNEL or not run_sync(self.km.is_alive)()
        ):
            self.close()
        if self.km is None:
            self._start(start_timeout)
        elif self.used:
            reply = run_sync(self.kc.execute_interactive)(
                "%reset -f", silent=True, store_history=False, timeout=RESET_TIMEOUT_S
            )
            if reply["content"]["status"] != "ok":
                self.close()
                self._start(start_timeout)
        self.used += 1
        return self.km, self.kc

    def _start(self, start_timeout: float) -> None:
        km = KernelManager(kernel_name=self.kernel_name)
        kc = None
        try:
            run_sync(km.start_kernel)(
                cwd=str(config.NOTEBOOKS_DIR),
                # as nbclient does: no history written to ~/.ipython, no lock between kernels
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
            )
            kc = km.client()
            kc.start_channels()
            run_sync(kc.wait_for_ready)(timeout=start_timeout)
        except BaseException:
            self.km, self.kc = km, kc
            self.close()
            raise
        kc.allow_stdin = False
        self.km, self.kc, self.used = km, kc, 0
        self.started += 1

    def close(self) -> None:
        """Shut the kernel down now (if any); the next :meth:`ready` starts a new one."""
        km, kc, self.km, self.kc, self.used = self.km, self.kc, None, None, 0
        if kc is not None:
            kc.stop_channels()
        if km is not None and km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)  # also removes its connection file
        elif km is not None:
            run_sync(km.cleanup_resources)()


class WarmEngine(Engine):
    """papermill's nbclient engine, on the :class:`WarmKernel` passed as ``warm=``.

    Meant to run with ``request_save_on_cell_execute=False`` (papermill then writes the notebook
    once at the end, not twice per cell: ~0.6 s a report); when the kernel cannot start or dies,
    or the report is stopped, what ran is still saved, to ``failure_path``.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        *,
        warm: WarmKernel,
        failure_path: str | None = None,
        **kwargs,
    ):
        try:
            km, kc = warm.ready(start_timeout)
            client = PapermillNotebookClient(
                nb_man,
                km=km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=papermill.log.logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                store_widget_state=False,  # see render._execute
            )
            client.kc = kc  # reuse the open channels; nbclient keeps a kernel it does not own
            return client.execute()
        except BaseException:
            # A kernel that did not start or died, or a report stopped at its time: papermill
            # saves what ran (its notebook_complete) when it knows where to.
            nb_man.output_path = failure_path
            raise


papermill_engines.register(ENGINE, WarmEngine)
