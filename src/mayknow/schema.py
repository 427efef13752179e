"""Every table of mayknow, gathered for Alembic and for the privacy declarations check."""

from __future__ import annotations

from sqlalchemy import MetaData

from mayknow.accounts import models as _accounts  # noqa: F401  (registers tables)
from mayknow.audit import models as _audit  # noqa: F401
from mayknow.consent import models as _consent  # noqa: F401
from mayknow.contacts import models as _contacts  # noqa: F401
from mayknow.db.base import Base
from mayknow.graph import models as _graph  # noqa: F401
from mayknow.location import models as _location  # noqa: F401
from mayknow.operators import models as _operators  # noqa: F401
from mayknow.partners import models as _partners  # noqa: F401
from mayknow.rights import models as _rights  # noqa: F401
from mayknow.suggestions import models as _suggestions  # noqa: F401

metadata: MetaData = Base.metadata
