"""The admin console under /admin: every handler requires an admin, every form its CSRF token."""

from interfaces.web.admin.accounts_page import AdminAccountsPage
from interfaces.web.admin.audit_page import AdminAuditPage
from interfaces.web.admin.codes_page import AdminCodesPage
from interfaces.web.admin.leases_page import AdminLeasesPage
from interfaces.web.admin.overview_page import AdminOverviewPage
from interfaces.web.admin.plans_page import AdminPlansPage

ADMIN_HANDLERS = [AdminOverviewPage, AdminAccountsPage, AdminLeasesPage, AdminPlansPage, AdminCodesPage, AdminAuditPage]
