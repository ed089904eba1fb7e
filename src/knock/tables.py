"""Imports every feature's tables so the metadata (and Alembic) sees the whole schema."""

from knock.core.models import Base
from knock.features.accounts import models as accounts_models
from knock.features.albums import models as albums_models
from knock.features.approvals import models as approvals_models
from knock.features.burn import models as burn_models
from knock.features.calls import models as calls_models
from knock.features.conversations import models as conversations_models
from knock.features.ding import models as ding_models
from knock.features.media import models as media_models
from knock.features.messages import models as messages_models
from knock.features.orgs import models as orgs_models
from knock.realtime import models as realtime_models

__all__ = [
    "Base",
    "accounts_models",
    "albums_models",
    "approvals_models",
    "burn_models",
    "calls_models",
    "conversations_models",
    "ding_models",
    "media_models",
    "messages_models",
    "orgs_models",
    "realtime_models",
]

metadata = Base.metadata
