"""`database_outage`: the app's database reached through a TcpProxy that the test cuts and restores.

Needs `@pytest.mark.django_db(transaction=True)`: rows must be committed to survive the connection being dropped.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.outage.proxy import TcpProxy


@pytest.fixture
def database_outage():
    assert not connection.in_atomic_block, "use @pytest.mark.django_db(transaction=True)"
    settings_dict = connection.settings_dict  # shared by every thread's connection
    saved = settings_dict["HOST"], settings_dict["PORT"]
    proxy = TcpProxy(saved[0] or "127.0.0.1", int(saved[1] or 5432)).start()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(proxy.port)
    try:
        yield proxy
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = saved
        proxy.cut()
