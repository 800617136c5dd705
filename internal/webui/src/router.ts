// The workbench's pages. The sign-in page is part of the first bundle (it
// is the first page of every visit, and one round trip less keeps the cold
// load short); the other views load on first visit, one chunk each.
import { createRouter, createWebHistory, type RouteLocationRaw } from "vue-router";
import { useSession } from "./stores/session";
import type { Role } from "./api/client";
import LoginView from "./views/LoginView.vue";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
    /** The page's title, shown in the tab. */
    title?: string;
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/login", name: "login", component: LoginView, meta: { public: true, title: "登录" } },
    { path: "/", name: "home", redirect: () => homeOf(useSession().role) },
    { path: "/todo", name: "todo", component: () => import("./views/TodoView.vue"), meta: { title: "我的待办" } },
    { path: "/cases", name: "cases", component: () => import("./views/CaseListView.vue"), meta: { title: "案件列表" } },
    { path: "/cases/new", name: "intake", component: () => import("./views/IntakeView.vue"), meta: { title: "登记纠纷" } },
    { path: "/cases/:id", name: "case", component: () => import("./views/CaseDetailView.vue"), meta: { title: "案件详情" } },
    { path: "/assign", name: "assign", component: () => import("./views/AssignView.vue"), meta: { title: "待分配" } },
    { path: "/dashboard", name: "dashboard", component: () => import("./views/DashboardView.vue"), meta: { title: "统计" } },
    { path: "/court", name: "court", component: () => import("./views/CourtView.vue"), meta: { title: "法院" } },
    { path: "/admin/:section?", name: "admin", component: () => import("./views/AdminView.vue"), meta: { title: "管理" } },
    { path: "/:rest(.*)*", name: "notfound", component: () => import("./views/NotFoundView.vue"), meta: { public: true, title: "页面不存在" } },
  ],
});

/** homeOf is the first page of a role. */
export function homeOf(role: Role | undefined): RouteLocationRaw {
  switch (role) {
    case "ROLE_MEDIATOR":
      return { name: "todo" };
    case "ROLE_ORGANIZATION_LEAD":
      return { name: "assign" };
    case "ROLE_COURT_DESK":
      return { name: "court" };
    case "ROLE_ADMIN":
    case "ROLE_AUDITOR":
      return { name: "admin" };
    default:
      return { name: "cases" };
  }
}

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.signedIn) await session.restore();
  if (!to.meta.public && !session.signedIn) {
    return { name: "login", query: to.fullPath !== "/" ? { redirect: to.fullPath } : {} };
  }
  if (to.name === "login" && session.signedIn) return homeOf(session.role);
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 调解工作台` : "调解工作台";
});
