"""Credit reports (api/reports.py): produced by POST, read back as stored by their number."""
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from creditgraph.api.access import Permission
from creditgraph.api.deps import CreditDep, ReportsDep, allow
from creditgraph.api.keys import Principal
from creditgraph.api.models import ReportIn, ReportOut
from creditgraph.api.routes._common import ERRORS

router = APIRouter(prefix="/reports", tags=["credit reports"], responses=ERRORS)

Number = Annotated[str, Path(pattern=r"^CR-\d{8}-\d{6}$", description="the report number, CR-YYYYMMDD-NNNNNN")]
PDF_ERRORS = {503: {"description": "Chromium could not print the report; retry, or see CREDITGRAPH_CHROMIUM"}}


@router.post("", response_model=ReportOut, status_code=status.HTTP_201_CREATED,
             summary="Produce a credit report of an entity at as_of (for a bid): numbered and stored as produced")
def produce(body: ReportIn, request: Request, credit: CreditDep, reports: ReportsDep,
            principal: Annotated[Principal, allow(Permission.CREDIT_REPORT)]) -> ReportOut:
    as_of = (body.as_of or date.today()).isoformat()
    request.state.audit_params = {"entity_id": body.entity_id, "as_of": as_of, "reference": body.reference}
    meta = reports.produce(credit, body.entity_id, as_of, reference=body.reference,
                           purpose=request.state.purpose, who=principal.name,
                           roles=sorted(r.value for r in principal.roles))
    request.state.audit_extra = {"report": meta["number"], "reached": meta["reached"]}
    return ReportOut(number=meta["number"], entity_id=body.entity_id, as_of=as_of, created=meta["created"],
                     reached=meta["reached"], html=f"/reports/{meta['number']}.html",
                     pdf=f"/reports/{meta['number']}.pdf")


def _audit_read(request: Request, reports, number: str) -> None:
    request.state.audit_extra = {"report": number, "report_of": reports.meta(number)["entity_id"]}


@router.get("/{number}.html", response_class=Response, dependencies=[allow(Permission.CREDIT_REPORT)],
            responses={200: {"content": {"text/html": {}}}},
            summary="The report as it was produced (the same bytes every time)")
def report_html(number: Number, request: Request, reports: ReportsDep) -> Response:
    _audit_read(request, reports, number)
    return Response(reports.html(number), media_type="text/html; charset=utf-8")


@router.get("/{number}.pdf", response_class=Response, dependencies=[allow(Permission.CREDIT_REPORT)],
            responses={200: {"content": {"application/pdf": {}}}, **PDF_ERRORS},
            summary="The report printed to PDF by headless Chromium, printed once and then served as stored")
def report_pdf(number: Number, request: Request, reports: ReportsDep) -> Response:
    from playwright.sync_api import Error as PlaywrightError
    _audit_read(request, reports, number)
    try:
        pdf = reports.pdf(number)
    except PlaywrightError as e:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"Chromium could not print the report ({str(e).splitlines()[0]}); "
                            "retry later, or set CREDITGRAPH_CHROMIUM to the browser's path") from None
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{number}.pdf"'})
