// One short flat config: Vue's recommended rules, typescript-eslint's recommended rules on .ts and .vue,
// no `any`, and the imports and globals the console must not use.
import { defineConfigWithVueTs, vueTsConfigs } from '@vue/eslint-config-typescript'
import pluginVue from 'eslint-plugin-vue'

export default defineConfigWithVueTs(
  { ignores: ['dist/**', 'node_modules/**', 'src/api/schema.d.ts'] },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'axios', message: '请使用 src/api/client.ts 中的类型化客户端。' },
            { name: 'echarts', message: '请从 echarts/core 按需引入，只注册用到的模块。' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'localStorage', message: '令牌与会话数据只保存在内存中（刷新令牌在 HttpOnly Cookie 中）。' },
      ],
    },
  },
)
