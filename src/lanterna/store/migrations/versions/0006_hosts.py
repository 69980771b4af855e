"""hosts: the browser hosts of a Ray cluster, and which one owns each session

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("host", sa.String(64), nullable=True))
        batch.create_index("ix_sessions_host", ["host"])
    op.create_table(
        "hosts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lost_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_hosts_node_id", "hosts", ["node_id"])
    op.create_index("ix_hosts_status", "hosts", ["status"])


def downgrade() -> None:
    op.drop_table("hosts")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_host")
        batch.drop_column("host")
