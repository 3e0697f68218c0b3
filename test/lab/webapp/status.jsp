<%@ page session="false" contentType="application/json; charset=UTF-8" trimDirectiveWhitespaces="true" %>
<%@ include file="/WEB-INF/lab.jspf" %>
<%--
  ?code=N (200-599, default 200) answers with that status and always adds "Set-Cookie: lab=1". 3xx also sets
  Location (?location=..., default /app/echo.jsp). 204 and 304 carry no body, as HTTP requires.
--%>
<%
  String query = request.getQueryString();
  int code = (int) longParam(query, "code", 200L, 200L, 599L);
  response.setStatus(code);
  response.addHeader("Set-Cookie", "lab=1");
  if (code >= 300 && code < 400) {
    String location = queryParam(query, "location");
    response.setHeader("Location", location == null || location.isEmpty() ? request.getContextPath() + "/echo.jsp" : location);
  }
  if (code != 204 && code != 304) {
%>{"route": <%= json(ROUTE) %>, "status": <%= code %>}
<%
  } else {
    response.setContentType(null);
  }
%>
