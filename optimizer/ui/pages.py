"""The console's HTML pages: login, cluster, audits, plans and one plan.

Pages are rendered on the server from a few column queries; what is big
(hosts, actions) the page's script fetches as compact JSON and draws. A
reader gets the same pages without their write buttons — and a write it
forges anyway is refused by the API, since every write goes through it.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select

from optimizer.api.errors import BadRequest
from optimizer.db.errors import NotFound
from optimizer.db.schema import ActionPlanRow, AuditRow
from optimizer.scheduler.next_runs import next_run_times
from optimizer.states import AuditType
from optimizer.ui.identity import Identity, PageUser, console_key, identify
from optimizer.ui.plan_data import plan_row
from optimizer.ui.session import COOKIE, LIFETIME_S, encode, new_session

PAGE_SIZE = 100
router = APIRouter()
_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(["html"]))


def render(name: str, who: Identity | None, status: int = 200, **values) -> HTMLResponse:
    """A template rendered with the caller's identity (role, CSRF value)."""
    html = _templates.get_template(name).render(who=who, **values)
    return HTMLResponse(html, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/ui/cluster", status_code=303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/ui/cluster") -> HTMLResponse:
    return render("login.html", identify(request), next=_safe_next(next), error=None)


@router.post("/login", include_in_schema=False)
async def login(request: Request):
    """Check the token with the API's auth; a good one gets a signed session cookie."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/ui/cluster"])[0])
    if not token or request.app.state.auth.role_of(token) is None:
        return render("login.html", None, status=401, next=target,
                      error="This token is not valid for this API.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, encode(new_session(token), console_key(request)),
                        max_age=LIFETIME_S, httponly=True, samesite="strict", path="/ui",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout", include_in_schema=False)
def logout() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


def _safe_next(target: str) -> str:
    """Only a console page: never a redirect to another site after login."""
    ok = target.startswith("/ui/") and not target.startswith("//") and "\\" not in target
    return target if ok and not target.startswith("/ui/login") else "/ui/cluster"


@router.get("/cluster", include_in_schema=False)
def cluster_page(who: PageUser) -> HTMLResponse:
    return render("cluster.html", who, page="cluster")


@router.get("/audits", include_in_schema=False)
def audits_page(request: Request, who: PageUser, offset: int = 0) -> HTMLResponse:
    """Audits, newest first, with their state, next run and last plan."""
    offset = max(offset, 0)
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        rows = session.execute(select(AuditRow).where(AuditRow.deleted_at.is_(None))
                               .order_by(AuditRow.id.desc()).offset(offset)
                               .limit(PAGE_SIZE + 1)).scalars().all()
        more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        due = next_run_times(session, [r.uuid for r in rows
                                       if r.audit_type == AuditType.CONTINUOUS])
        last = dict(session.execute(
            select(ActionPlanRow.audit_id, func.max(ActionPlanRow.id))
            .where(ActionPlanRow.audit_id.in_([r.id for r in rows]))
            .group_by(ActionPlanRow.audit_id)).all())
        plans = dict(session.execute(select(ActionPlanRow.id, ActionPlanRow.uuid).where(
            ActionPlanRow.id.in_(list(last.values())))).all())
        audits = [{"uuid": r.uuid, "name": r.name, "type": r.audit_type, "state": r.state,
                   "goal": r.goal, "strategy": r.strategy or "", "interval": r.interval or "",
                   "next_run": _when(due.get(r.uuid)),
                   "last_plan": plans.get(last.get(r.id)), "message": r.status_message or ""}
                  for r in rows]
    goals = sorted({s.goal for s in ctx.strategies.loaded.values()})
    return render("audits.html", who, page="audits", audits=audits, offset=offset,
                  more=more, page_size=PAGE_SIZE, goals=goals,
                  strategies=sorted(ctx.strategies.loaded))


@router.get("/plans", include_in_schema=False)
def plans_page(request: Request, who: PageUser, offset: int = 0) -> HTMLResponse:
    """Action plans, newest first."""
    offset = max(offset, 0)
    with request.app.state.ctx.database.session() as session:
        rows = session.execute(
            select(ActionPlanRow.uuid, ActionPlanRow.state, ActionPlanRow.strategy,
                   ActionPlanRow.created_at, ActionPlanRow.status_message,
                   AuditRow.name.label("audit"))
            .join(AuditRow, ActionPlanRow.audit_id == AuditRow.id)
            .where(ActionPlanRow.deleted_at.is_(None)).order_by(ActionPlanRow.id.desc())
            .offset(offset).limit(PAGE_SIZE + 1)).all()
    plans = [{"uuid": r.uuid, "state": r.state, "strategy": r.strategy, "audit": r.audit,
              "created": _when(r.created_at), "message": r.status_message or ""}
             for r in rows[:PAGE_SIZE]]
    return render("plans.html", who, page="plans", plans=plans, offset=offset,
                  more=len(rows) > PAGE_SIZE, page_size=PAGE_SIZE)


@router.get("/plans/{uuid}", include_in_schema=False)
def plan_page(request: Request, who: PageUser, uuid: str) -> HTMLResponse:
    """One plan; its figures, hosts and actions are fetched by the page's script."""
    try:
        with request.app.state.ctx.database.session() as session:
            plan = plan_row(session, uuid)
    except (NotFound, BadRequest) as error:  # deleted, never was, or not a uuid at all
        return render("gone.html", who, status=404, page="plans", message=str(error))
    return render("plan.html", who, page="plans", plan=plan, created=_when(plan.created_at))
