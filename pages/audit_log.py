"""操作日志 (admins only): the audit log with its filters, and the accounts."""

import datetime as dt

import pandas as pd
import streamlit as st

from hotspot import audit, auth
from pages._shared import current_user, get_engine, lang, store_url, t

#: Days of the log shown when the page opens.
DEFAULT_DAYS = 30
#: Most entries listed at once (the newest first).
LIMIT = 2000


def action_name(action: str) -> str:
    """An audit action as people call it, in the UI language."""
    zh, en = audit.ACTIONS.get(action, (action, action))
    return t(zh, en)


def role_name(role: str) -> str:
    """A role as people call it, in the UI language."""
    zh, en = auth.ROLES.get(role, (role, role))
    return t(zh, en)


def log_table(entries: pd.DataFrame) -> pd.DataFrame:
    """Audit entries as a table for people."""
    return pd.DataFrame(
        {
            t("时间", "When"): entries["at"].to_numpy(),
            t("操作人", "Who"): entries["actor"].to_numpy(),
            t("操作", "Action"): [action_name(a) for a in entries["action"]],
            t("对象", "Target"): entries["target"].fillna("").to_numpy(),
            t("详情", "Detail"): entries["detail"].fillna("").to_numpy(),
        }
    )


def account_table(users: pd.DataFrame) -> pd.DataFrame:
    """Accounts as a table for people (there are no password hashes in it)."""
    return pd.DataFrame(
        {
            t("用户名", "Username"): users["username"].to_numpy(),
            t("姓名", "Name"): users["full_name"].fillna("").to_numpy(),
            t("角色", "Role"): [role_name(r) for r in users["role"]],
            t("社区", "Community"): users["community"].fillna("").to_numpy(),
            t("已停用", "Disabled"): users["disabled"].astype(bool).to_numpy(),
            t("创建时间", "Created"): users["created_at"].to_numpy(),
            t("最近登录", "Last login"): users["last_login_at"].to_numpy(),
        }
    )


user = current_user()
if not auth.may_open(user, "audit"):  # the navigation never offers it; a direct run stops
    st.error(t("无权查看操作日志。", "You may not see the audit log."))
    st.stop()
engine = get_engine(store_url())
st.header(t("操作日志", "Audit log"))

who, what, since_column = st.columns([2, 3, 2])
actor = who.text_input(
    t("操作人（用户名）", "Who (username)"),
    key="audit_actor",
    placeholder=t("全部", "Everyone"),
)
i18n = 1 if lang() == "en" else 0
actions = what.multiselect(
    t("操作", "Action"),
    list(audit.ACTIONS),
    format_func=lambda a: audit.ACTIONS[a][i18n],
    key="audit_actions",
    placeholder=t("全部操作", "All actions"),
)
since = since_column.date_input(
    t("起始日期", "Since"),
    value=dt.date.today() - dt.timedelta(days=DEFAULT_DAYS),
    max_value=dt.date.today(),
    key="audit_since",
)
entries = audit.read_audit(
    engine,
    actor=actor.strip() or None,
    actions=tuple(actions),
    since=since or None,
    limit=LIMIT,
)
st.caption(
    t(
        f"共 {len(entries):,} 条（最新在前，最多 {LIMIT:,} 条）",
        f"{len(entries):,} entries (newest first, at most {LIMIT:,})",
    )
)
st.dataframe(log_table(entries), hide_index=True)

st.subheader(t("账号", "Accounts"))
st.dataframe(account_table(auth.list_users(engine)), hide_index=True)
st.caption(
    t(
        "新建、停用账号或重设密码请在服务器上使用 hotspot users add|disable|set-password。",
        "Add or disable accounts and set passwords on the server with "
        "hotspot users add|disable|set-password.",
    )
)
