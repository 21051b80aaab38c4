"""The post-service NPS loop: schedule, reach the client, take the answer, route it, close cases.

- ``notices``: the loop's kinds of due work and its notices to people;
- ``surveys``: a survey from planning to answer, comment or /stop;
- ``cases``: detractor cases;
- ``referrals``: promoters' referral links;
- ``summary``: the figures for /nps.
"""

from services.nps.cases import (
    CASE_NEWS,
    CaseMove,
    case_managers,
    get_case_for,
    move_case,
    open_case,
    tell_about,
)
from services.nps.notices import (
    CASE_ALERT,
    CASE_DUE,
    CASE_ESCALATE,
    CHANGE_WINDOW,
    CLIENT_DAYTIME,
    NPS_NOTICE,
    NPS_REMIND,
    NPS_SEND,
    REF_PREFIX,
    REFERRAL_NEW,
    notify,
    notify_people,
    notify_rep,
)
from services.nps.referrals import (
    Referral,
    Referred,
    open_referral,
    referral_link_for,
)
from services.nps.summary import (
    Row,
    latest_comments,
    row_names,
    summary,
)
from services.nps.surveys import (
    Answer,
    Answered,
    Open,
    Planned,
    Skip,
    add_comment,
    answer,
    awaiting_comment,
    awaiting_score,
    fall_back_to_link,
    keep_early_comment,
    mark_delivered,
    open_link,
    plan_survey,
    stop,
    survey_by_token,
)

__all__ = [
    "Answer",
    "Answered",
    "CASE_ALERT",
    "CASE_DUE",
    "CASE_ESCALATE",
    "CASE_NEWS",
    "CHANGE_WINDOW",
    "CLIENT_DAYTIME",
    "CaseMove",
    "NPS_NOTICE",
    "NPS_REMIND",
    "NPS_SEND",
    "Open",
    "Planned",
    "REFERRAL_NEW",
    "REF_PREFIX",
    "Referral",
    "Referred",
    "Row",
    "Skip",
    "add_comment",
    "keep_early_comment",
    "answer",
    "awaiting_comment",
    "awaiting_score",
    "case_managers",
    "fall_back_to_link",
    "get_case_for",
    "latest_comments",
    "mark_delivered",
    "move_case",
    "notify",
    "notify_people",
    "notify_rep",
    "open_case",
    "open_link",
    "open_referral",
    "plan_survey",
    "referral_link_for",
    "row_names",
    "stop",
    "summary",
    "tell_about",
    "survey_by_token",
]
