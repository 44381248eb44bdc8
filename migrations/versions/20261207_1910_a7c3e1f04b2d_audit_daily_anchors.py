"""audit: daily chain heads (anchors) published on the change feed

Revision ID: a7c3e1f04b2d
Revises: a3c5e7f9b2d4
Create Date: 2026-12-07 19:00:00

`audit_anchor` keeps each closed day's last audit row (sequence number and hash); `audit_head.day` is the
day of the chain's tip, so the first row of a later day turns the tip into that day's anchor. Existing
chains are backfilled: every day before the tip's day gets its anchor, and the head its day (China Standard
Time, as clock.today()). The hashes themselves do not change.
"""
from datetime import timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = 'a7c3e1f04b2d'
down_revision = 'a3c5e7f9b2d4'
branch_labels = None
depends_on = None

CST = timezone(timedelta(hours=8))


def upgrade():
    op.create_table('audit_anchor',
    sa.Column('day', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_audit_anchor'))
    )
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))

    # Backfill: the last row of each CST day, in one pass over the chain in order.
    conn = op.get_bind()
    log = sa.table('audit_log', sa.column('seq', sa.Integer), sa.column('created_at', sa.DateTime),
                   sa.column('hash', sa.String))
    anchor = sa.table('audit_anchor', sa.column('day', sa.Date), sa.column('seq', sa.Integer),
                      sa.column('hash', sa.String))
    head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('day', sa.Date))
    last = {}
    result = conn.execute(sa.select(log.c.seq, log.c.created_at, log.c.hash).order_by(log.c.seq),
                          execution_options={"stream_results": True, "max_row_buffer": 5000})
    for seq, created_at, digest in result:
        day = created_at.replace(tzinfo=timezone.utc).astimezone(CST).date()
        last[day] = (seq, digest)
    if last:
        tip_day = max(last)
        rows = [{"day": day, "seq": seq, "hash": digest} for day, (seq, digest) in sorted(last.items())
                if day < tip_day]
        if rows:
            op.bulk_insert(anchor, rows)
        conn.execute(sa.update(head).where(head.c.id == 1).values(day=tip_day))


def downgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('day')
    op.drop_table('audit_anchor')
