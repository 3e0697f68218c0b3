<%@ page contentType="application/json; charset=UTF-8" trimDirectiveWhitespaces="true" %>
<%@ include file="/WEB-INF/lab.jspf" %>
<%--
  The only page with session="true": creates an HttpSession if the request has none; Tomcat then sets
  JSESSIONID=<id>.<jvmRoute> itself. "hits" counts requests in this session, so a follow-up that reached the other
  Tomcat shows up as a new session with hits 1. ?invalidate=1 ends the session.
--%>
<%
  Integer hits = (Integer) session.getAttribute("hits");
  hits = hits == null ? 1 : hits + 1;
  session.setAttribute("hits", hits);
  boolean isNew = session.isNew();
  String id = session.getId();
  if ("1".equals(queryParam(request.getQueryString(), "invalidate"))) session.invalidate();
%>{"route": <%= json(ROUTE) %>, "sessionId": <%= json(id) %>, "new": <%= isNew %>, "hits": <%= hits %>, "requestedSessionId": <%= json(request.getRequestedSessionId()) %>}
