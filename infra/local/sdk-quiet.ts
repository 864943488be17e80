// Developer machines may run Node 20 while Lambda runs nodejs24.x; the SDK's Node-version notice is
// about the former and only adds noise here. Imported first by the local entry points.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
