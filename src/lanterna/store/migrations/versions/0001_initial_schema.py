"""initial schema: api keys, sessions and their actions, agents and their steps

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False, index=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        _when("created_at"),
        _when("revoked_at", nullable=True),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("options", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("last_accessed_at"),
        _when("closed_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("offset", sa.Integer(), nullable=False),
    )
    op.create_index("ix_sessions_tenant_created", "sessions", ["tenant", "created_at"])
    op.create_table(
        "session_actions",
        sa.Column(
            "session_id", sa.String(36), sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("result", sa.JSON(), nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("reasoning_model", sa.String(200), nullable=True),
        sa.Column("max_steps", sa.Integer(), nullable=False),
        sa.Column("use_vision", sa.Boolean(), nullable=False),
        sa.Column("response_format", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        _when("created_at"),
        _when("closed_at", nullable=True),
        sa.Column("replay_start_offset", sa.Integer(), nullable=False),
        sa.Column("replay_stop_offset", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agents_tenant_created", "agents", ["tenant", "created_at"])
    op.create_table(
        "agent_steps",
        sa.Column(
            "agent_id", sa.String(36), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("step", sa.JSON(), nullable=False),
        _when("created_at"),
    )


def downgrade() -> None:
    op.drop_table("agent_steps")
    op.drop_table("agents")
    op.drop_table("session_actions")
    op.drop_table("sessions")
    op.drop_table("api_keys")
