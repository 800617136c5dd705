import { createApp } from "vue";
import { createPinia } from "pinia";
import "element-plus/dist/index.css";
import "./style.css";
import App from "./App.vue";
import { router } from "./router";
import { whenUnauthenticated } from "./api/client";
import { useSession } from "./stores/session";

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
app.use(router);

// A token the service no longer accepts (expired, revoked, signed out
// elsewhere): back to the sign-in page, then to where the user was.
whenUnauthenticated(() => {
  const session = useSession(pinia);
  session.clear();
  const here = router.currentRoute.value;
  if (here.name !== "login") void router.replace({ name: "login", query: { redirect: here.fullPath, expired: "1" } });
});

app.mount("#app");
