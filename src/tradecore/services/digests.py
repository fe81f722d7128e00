"""Delivering a cycle's digest once, even when the scheduler sending it loses its lease.

A finished run is stored with its digest :attr:`~tradecore.domain.DigestDelivery.PENDING`. The
sender then *claims* the delivery with its lease's fencing token (in a fenced unit, so only the
lease's current holder commits a claim) and sends the digest to each notification target in
turn: right before each send it confirms the lease, and right after it records the target's
``notify`` step. That record goes to the unfenced store, accepted only while the claim is still
its own: what was sent is recorded even if the lease lapsed during the send, unless another
owner claimed the digest meanwhile. After the last target the digest is ``DELIVERED``.

When the lease is lost before or during a send, the sender stops there; the digest stays
pending. The next owner of the user's cycle (:meth:`AutomationCycle.deliver_pending_digests`,
run by :class:`~tradecore.services.LeasedCycle` before the cycle) claims it with its newer token
and sends it to the targets that have no ``notify`` step yet, so each target gets it once. The
one case left is a send still in flight when another owner claims the digest: that target may
get it twice, never none (a notifier offers no way to take a message back).

A target's failure (the chat refused the message) is its recorded step; it is not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tradecore.domain import (
    AutomationRun,
    Digest,
    DigestDelivery,
    TaskKind,
    TaskResult,
    TaskStatus,
)
from tradecore.errors import LeaseLost
from tradecore.ports import Clock, RepositoryPort
from tradecore.services._steps import StepTimer, describe_error
from tradecore.services.fencing import FencedRepository, confirm_lease
from tradecore.services.notify import TargetNotifier

__all__ = ["deliver_digest"]

_log = logging.getLogger("tradecore.cycle")


async def deliver_digest(
    run: AutomationRun,
    digest: Digest,
    targets: Sequence[TargetNotifier],
    *,
    repository: RepositoryPort,
    clock: Clock,
) -> bool:
    """Send ``digest`` (of the stored, finished ``run``) to the ``targets`` it has not reached
    yet, recording a ``notify`` step on ``run`` for each (see the module docstring).

    ``repository`` is the cycle's: a :class:`FencedRepository` under a lease, whose token
    claims the delivery; any other (a cycle run outside a lease) claims with token 0.

    :returns: ``True`` when the digest is delivered; ``False`` when it was not this sender's
        to deliver (already delivered, or claimed by a newer lease).
    :raises LeaseLost: the lease was lost; the digest stays pending for the next owner.
    """
    if isinstance(repository, FencedRepository):
        fencing, records = repository.fencing, repository.unfenced
    else:
        fencing, records = 0, repository
    async with repository.unit_of_work() as uow:
        claimed = await uow.runs.claim_digest(run.user_id, run.id, fencing=fencing)
        await uow.commit()
    if not claimed:
        _log.info("the digest of run %s is delivered or being delivered by another owner", run.id)
        return False
    reached = {step.subject for step in run.steps if step.kind is TaskKind.NOTIFY}
    remaining = [target for target in targets if target.name not in reached]
    if not remaining:
        run.digest = DigestDelivery.DELIVERED
        return await _record(records, run, fencing)
    for index, target in enumerate(remaining):
        try:
            await confirm_lease(repository)
        except LeaseLost:
            names = ", ".join(t.name for t in remaining[index:])
            _log.warning(
                "the digest of run %s was not sent to %s: the lease was lost; the next owner "
                "of the cycle sends it",
                run.id,
                names,
            )
            raise
        run.add_step(await _send(target, digest, clock))
        if index == len(remaining) - 1:
            run.digest = DigestDelivery.DELIVERED
        if not await _record(records, run, fencing):
            return False
    return True


async def _send(target: TargetNotifier, digest: Digest, clock: Clock) -> TaskResult:
    timer = StepTimer(clock, TaskKind.NOTIFY, target.name, None, secrets=target.secret_values)
    if target.notifier is None:
        return timer.result(TaskStatus.FAILURE, error=target.error or "unusable")
    try:
        await target.notifier.send(digest)
    except Exception as exc:  # a notifier's failure is its step, never the run's
        return timer.result(TaskStatus.FAILURE, error=describe_error(exc))
    return timer.result(TaskStatus.SUCCESS, counts={"digests": 1})


async def _record(records: RepositoryPort, run: AutomationRun, fencing: int) -> bool:
    async with records.unit_of_work() as uow:
        recorded = await uow.runs.record_digest(run, fencing=fencing)
        await uow.commit()
    if not recorded:
        _log.warning(
            "another owner of the cycle took the digest of run %s over while it was being "
            "sent; it sends it to the targets not recorded here",
            run.id,
        )
    return recorded
