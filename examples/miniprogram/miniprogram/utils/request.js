// 统一请求：自动选择云托管 / HTTP / 模拟数据（由 mp-request 的 Rust 核心决定），
// 统一的错误（RequestError），失败时默认提示用户（toast: false 可关闭）。
let last = null;

async function request(options) {
  const { toast = true, ...rest } = options;
  const client = await getApp().ready;
  try {
    last = await client.request(rest);
    return last;
  } catch (error) {
    if (toast) wx.showToast({ title: error.message, icon: 'none' });
    throw error;
  }
}

// 最近一次成功请求走的路由（cloud / http / mock），调试时可以看它。
function lastRoute() {
  return last ? last.route : '-';
}

module.exports = { request, lastRoute };
