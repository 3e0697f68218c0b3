<%@ page contentType="application/json; charset=UTF-8" trimDirectiveWhitespaces="true" %>
<%@ include file="/WEB-INF/lab.jspf" %>
<%--
  The release this deployment runs and values that differ per node and per request, Diffy's three kinds of noise:
  "release" is the context parameter lab.release (A unless set: tomcat2's Variant service sets B, see
  test/lab/tomcat-base.ts), the only field a mirror candidate should be caught on; "node" (the jvmRoute, from the
  session id), "sessionId", "requestId" (random) and "clock" (System.nanoTime) differ between any two answers.
  Creates a session (as an application that logs users in would), so the answer also carries a Set-Cookie.
--%>
<%
  String release = application.getInitParameter("lab.release");
  if (release == null) release = "A";
  String id = session.getId();
  int dot = id.indexOf('.');
  String node = dot < 0 ? null : id.substring(dot + 1);
%>{"release": <%= json(release) %>, "node": <%= json(node) %>, "sessionId": <%= json(id) %>, "requestId": <%= json(java.util.UUID.randomUUID()) %>, "clock": <%= System.nanoTime() %>}
