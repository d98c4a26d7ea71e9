"""SeisVault: a Python client for the seisvaultd query API.

Quick start::

    import seisvault

    with seisvault.Client("127.0.0.1:16601") as c:
        print([ch.source_id for ch in c.list_channels("IU.*")])
        for seg in c.get_samples("IU.COLA.00.LH?", "2010-02-27T06:50:00Z",
                                 "2010-02-27T07:00:00Z"):
            print(seg)

The gRPC stubs this package needs (``waveform_pb2``, ``waveform_pb2_grpc``,
``ingest_pb2``) are generated at build time from ``proto/*.proto`` into
``<build>/client/python/seisvault/``, next to copies of these sources: put
``<build>/client/python`` on ``PYTHONPATH``. See :mod:`seisvault.client`
for the whole API.
"""

from . import client as _client
from .client import (
    DEFAULT_TARGET,
    AuthenticationError,
    Channel,
    ChannelAvailability,
    Client,
    Gap,
    InvalidArgumentError,
    Record,
    Segment,
    SeisVaultError,
    Skipped,
    Span,
    Stats,
    Subscription,
    UnavailableError,
    VerifyProblem,
    VerifyResult,
    format_ns,
    ns_to_datetime,
    to_ns,
)

__version__ = "0.1.0"

# Everything seisvault.client exports, and the version.
__all__ = [*_client.__all__, "__version__"]
